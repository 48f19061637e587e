// The canvas's calls to the server, all through the app's api() (session cookie, CSRF).
import { api } from "../api";
import type { JsonObject, ProcessBody, RunStatus, ShapeInfo } from "./types";

export interface Component {
  id: string;
  type: string;
  name: string;
  folder?: string | null;
  version: number;
  body: ProcessBody;
}

export interface DocumentRecord {
  index: number;
  shape: string;
  data: string | { base64: string };
  content_type?: string | null;
  properties: JsonObject;
  /** dynamic document properties, where the server lists them apart */
  dynamic?: JsonObject;
}

export interface LogLine {
  time: string;
  level: string;
  shape: string | null;
  message: string;
}

export interface ShapeProgress {
  shape: string;
  status: RunStatus;
  documents_in?: number;
  documents_out?: number;
  documents_failed?: number;
}

export interface ExecutionProgress {
  status: string;
  documents_in?: number;
  documents_out?: number;
  documents_failed?: number;
}

export const getShapes = () => api<ShapeInfo[]>("GET", "/shapes");

export const getComponent = (id: string) => api<Component>("GET", `/components/${encodeURIComponent(id)}`);

export function saveComponent(id: string | null, body: ProcessBody, baseVersion: number | null): Promise<Component> {
  if (id === null) return api<Component>("POST", "/components", { body });
  return api<Component>("PUT", `/components/${encodeURIComponent(id)}`, { body, base_version: baseVersion });
}

export const runTest = (id: string) =>
  api<{ execution_id: string }>("POST", `/processes/${encodeURIComponent(id)}/run`, { mode: "test" });

export const getExecution = (id: string) =>
  api<ExecutionProgress & { shapes?: Record<string, Omit<ShapeProgress, "shape">> }>("GET", `/executions/${encodeURIComponent(id)}`);

export const getDocuments = (execution: string, shape: string) =>
  api<DocumentRecord[]>("GET", `/executions/${encodeURIComponent(execution)}/documents?shape=${encodeURIComponent(shape)}`);

export const getLog = (execution: string) => api<LogLine[]>("GET", `/executions/${encodeURIComponent(execution)}/log`);

export function executionEvents(execution: string): EventSource {
  return new EventSource(`/api/executions/${encodeURIComponent(execution)}/events`, { withCredentials: true });
}
