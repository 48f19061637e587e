// The shapes of the REST API the app reads (see the API's agreed shapes).
export type Role = "viewer" | "builder" | "admin";

export interface User {
  name: string;
  role: Role;
}

export interface Session {
  user: User;
  csrf_token: string;
}

export type ComponentType = "connection" | "operation" | "process" | "profile" | "map" | string;

export interface ComponentSummary {
  id: string;
  type: ComponentType;
  name: string;
  folder: string | null;
  version: number;
  created_at: string;
  connector?: string | null;
}

export type Body = Record<string, unknown>;

export interface ComponentDetail extends ComponentSummary {
  body: Body;
  secrets?: Record<string, string>;
}

export interface JsonSchema {
  [key: string]: unknown;
  properties?: Record<string, JsonSchema>;
}

export interface Connector {
  name: string;
  title: string;
  connection_schema: JsonSchema;
  operation_schema: JsonSchema;
}

export interface VersionInfo {
  version: number;
  name: string;
  created_at: string;
}

export function canEdit(user: User): boolean {
  return user.role === "builder" || user.role === "admin";
}
