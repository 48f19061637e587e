// A fake of the REST API for unit tests: routes "METHOD /api/path" to JSON answers and
// records every request (method, path, parsed body, headers).
import { vi } from "vitest";

export interface Call {
  method: string;
  path: string;
  body: unknown;
  headers: Record<string, string>;
}

export type Handler = (call: Call) => { status?: number; json?: unknown; text?: string; headers?: Record<string, string> };

export function fakeServer(routes: Record<string, Handler>) {
  const calls: Call[] = [];
  const fetchMock = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(String(input), "http://localhost");
    const method = (init?.method ?? "GET").toUpperCase();
    const call: Call = {
      method,
      path: url.pathname + url.search,
      body: init?.body ? JSON.parse(String(init.body)) : undefined,
      headers: (init?.headers ?? {}) as Record<string, string>,
    };
    calls.push(call);
    const handler = routes[`${method} ${url.pathname + url.search}`] ?? routes[`${method} ${url.pathname}`];
    if (!handler) return new Response(JSON.stringify({ detail: `no route ${method} ${url.pathname}` }), { status: 404 });
    const answer = handler(call);
    const status = answer.status ?? 200;
    if (status === 204) return new Response(null, { status });
    const text = answer.text ?? JSON.stringify(answer.json ?? null);
    return new Response(text, { status, headers: answer.headers });
  });
  vi.stubGlobal("fetch", fetchMock);
  return { calls };
}

export const json = (value: unknown, status = 200) => () => ({ status, json: value });
