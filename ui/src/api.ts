// The one way the app talks to the server: JSON over fetch, the session cookie, and the
// CSRF token on every state-changing request. Errors come back as ApiError with the
// server's detail and per-field errors (see the API's error shape).

export interface FieldError {
  field: string;
  message: string;
  fix?: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly errors: FieldError[];
  readonly body: unknown;

  constructor(status: number, detail: string, errors: FieldError[], body: unknown) {
    super(detail);
    this.status = status;
    this.errors = errors;
    this.body = body;
  }
}

let csrfToken = "";

export function setCsrfToken(token: string): void {
  csrfToken = token;
}

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (UNSAFE.has(method) && csrfToken) headers["X-CSRF-Token"] = csrfToken;
  const response = await fetch(`/api${path}`, {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  if (!response.ok) {
    const payload = (parsed ?? {}) as { detail?: unknown; errors?: FieldError[] };
    const detail = typeof payload.detail === "string" ? payload.detail : `${response.status} ${response.statusText}`;
    throw new ApiError(response.status, detail, payload.errors ?? [], parsed);
  }
  return parsed as T;
}
