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
  readonly retryAfter: string | null;

  constructor(status: number, detail: string, errors: FieldError[], body: unknown, retryAfter: string | null = null) {
    super(detail);
    this.status = status;
    this.errors = errors;
    this.body = body;
    this.retryAfter = retryAfter;
  }
}

let csrfToken = "";
let onUnauthorized: (() => void) | null = null;

/** Called when a request is refused for want of a login (the session ended): the app shows
 * the login page again. */
export function setUnauthorizedHandler(handler: (() => void) | null): void {
  onUnauthorized = handler;
}

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
    if (response.status === 401 && onUnauthorized && path !== "/login" && path !== "/session") onUnauthorized();
    const detail = typeof payload.detail === "string" ? payload.detail : `${response.status} ${response.statusText}`;
    throw new ApiError(response.status, detail, payload.errors ?? [], parsed, response.headers.get("Retry-After"));
  }
  return parsed as T;
}

/** The query string of `params`, leaving out empty values ("" when none is left). */
export function query(params: Record<string, string | number | boolean | null | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

/** The message to show for any error: the server's detail, or the error's text. */
export function errorText(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
