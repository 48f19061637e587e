export interface Execution {
  id: string;
  process_id: string;
  process_name: string | null;
  process_version: number | null;
  status: string;
  mode: string;
  started_at: string | null;
  ended_at: string | null;
  duration_seconds?: number | null;
  documents_in: number;
  documents_out: number;
  documents_failed: number;
  error: string | null;
  trigger: string | null;
  listener?: string | null;
}

export interface DocumentError {
  shape: string | null;
  document: number | null;
  message: string;
  time?: string;
}

export interface LogLine {
  time: string;
  level: string;
  shape: string | null;
  message: string;
}

export interface ShapeState {
  status: string;
  documents_in: number;
  documents_out: number;
  documents_failed: number;
}

/** A delivery report or complaint about one of the execution's letters, read later. */
export interface Bounce {
  recipient: string;
  kind: string;
  action: string;
  status: string;
  diagnostic: string;
  message_id: string;
  reported_at: string | null;
  recorded_at: string | null;
}

/** One Flow Control chunk of a run on the workers. */
export interface Chunk {
  shape: string;
  number: number;
  node: string | null;
  documents: number;
  status: string;
  attempts: number;
  error: string | null;
}

export interface ExecutionDetail extends Execution {
  errors: DocumentError[];
  log?: LogLine[];
  shapes?: Record<string, ShapeState>;
  bounces?: Bounce[];
  chunks?: Chunk[];
}

export interface KeptDocument {
  index: number;
  shape: string;
  data: string | { base64: string };
  content_type?: string;
  properties?: Record<string, unknown>;
}

export function duration(execution: Execution): string {
  let seconds = execution.duration_seconds;
  if ((seconds === undefined || seconds === null) && execution.started_at && execution.ended_at) {
    seconds = (Date.parse(execution.ended_at) - Date.parse(execution.started_at)) / 1000;
  }
  if (seconds === undefined || seconds === null || Number.isNaN(seconds)) return "";
  return seconds < 60 ? `${seconds.toFixed(1)} s` : `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}

export function when(value: string | null): string {
  return value ? new Date(value).toLocaleString() : "";
}

export function statusText(status: string): string {
  return status.replace(/_/g, " ");
}
