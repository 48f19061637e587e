// Test helpers (imported by the canvas's vitest files only): what jsdom lacks for React Flow,
// a scripted fetch (the API) that records requests, and a scripted EventSource.
import { vi } from "vitest";
import type { ShapeInfo } from "./types";

class FakeResizeObserver {
  constructor(private readonly callback: ResizeObserverCallback) {}
  observe(target: Element) {
    this.callback([{ target } as unknown as ResizeObserverEntry], this as unknown as ResizeObserver);
  }
  unobserve() {}
  disconnect() {}
}

class FakeDOMMatrixReadOnly {
  m22: number;
  constructor(transform?: string) {
    const scale = transform?.match(/scale\(([1-9.])\)/)?.[1];
    this.m22 = scale !== undefined ? Number(scale) : 1;
  }
}

export function installDomFakes(): void {
  vi.stubGlobal("ResizeObserver", FakeResizeObserver);
  vi.stubGlobal("DOMMatrixReadOnly", FakeDOMMatrixReadOnly);
  Object.defineProperties(HTMLElement.prototype, {
    offsetHeight: { configurable: true, get: () => 60 },
    offsetWidth: { configurable: true, get: () => 160 },
  });
  (SVGElement.prototype as unknown as { getBBox: () => DOMRect }).getBBox = () =>
    ({ x: 0, y: 0, width: 0, height: 0 }) as DOMRect;
}

export interface Request {
  method: string;
  path: string;
  body: unknown;
}

type Reply = { status: number; body?: unknown } | ((request: Request) => { status: number; body?: unknown });

/** A scripted API: routes by "METHOD /path"; every request is recorded. */
export function fakeApi(routes: Record<string, Reply>) {
  const requests: Request[] = [];
  const fetchMock = vi.fn(async (url: string, init?: RequestInit) => {
    const path = url.replace(/^\/api/, "");
    const request: Request = { method: init?.method ?? "GET", path, body: init?.body ? JSON.parse(String(init.body)) : undefined };
    requests.push(request);
    const route = routes[`${request.method} ${path}`];
    const reply = typeof route === "function" ? route(request) : route ?? { status: 404, body: { detail: `no route ${path}` } };
    const text = reply.body === undefined ? "" : JSON.stringify(reply.body);
    return new Response(reply.status === 204 ? null : text, { status: reply.status });
  });
  vi.stubGlobal("fetch", fetchMock);
  return requests;
}

export class FakeEventSource {
  static instances: FakeEventSource[] = [];
  readonly url: string;
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSED = 2;
  closed = false;
  readyState = 1;
  onerror: ((event: Event) => void) | null = null;
  private listeners = new Map<string, ((event: Event) => void)[]>();

  constructor(url: string) {
    this.url = url;
    FakeEventSource.instances.push(this);
  }
  addEventListener(type: string, listener: (event: Event) => void) {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }
  close() {
    this.closed = true;
    this.readyState = 2;
  }
  /** The connection fails: retried (CONNECTING) or given up (CLOSED). */
  fail(readyState: number) {
    this.readyState = readyState;
    this.onerror?.(new Event("error"));
  }
  /** The server sends one event. */
  emit(type: string, data: unknown) {
    const event = new MessageEvent(type, { data: JSON.stringify(data) });
    (this.listeners.get(type) ?? []).forEach((l) => l(event));
  }
}

export function installEventSource(): typeof FakeEventSource {
  FakeEventSource.instances = [];
  vi.stubGlobal("EventSource", FakeEventSource);
  return FakeEventSource;
}

const next = { anyOf: [{ type: "string" }, { type: "null" }], default: null, title: "Next" };
const label = { anyOf: [{ type: "string" }, { type: "null" }], default: null, title: "Label" };

function info(type: string, title: string, outlets: string[], properties: Record<string, unknown>, required: string[] = []): ShapeInfo {
  const outletProps = Object.fromEntries(outlets.filter((o) => !o.includes("[")).map((o) => [o, o === "branches" ? { type: "array", items: { type: "string" } } : next]));
  return {
    type, title, outlets,
    schema: {
      type: "object", title, additionalProperties: false, required: ["type", ...required],
      properties: { type: { const: type, type: "string" }, label, ...properties, ...outletProps },
    } as ShapeInfo["schema"],
  };
}

/** A palette like the server's, small: the schemas have the shape of pydantic's. */
export const SHAPES: ShapeInfo[] = [
  info("start", "Start", ["next"], { mode: { type: "string", enum: ["no_data", "data_passthrough", "connector", "listener"], default: "no_data", title: "Mode" } }),
  info("message", "Message", ["next"], { text: { type: "string", title: "Text" } }, ["text"]),
  info("decision", "Decision", ["true", "false"], { first: { type: "string", title: "First" }, comparison: { type: "string", title: "Comparison" }, second: { type: "string", title: "Second" } }, ["first"]),
  info("branch", "Branch", ["branches"], {}),
  {
    ...info("route", "Route", ["cases[].next", "default"], { by: { type: "string", title: "By" } }, ["by"]),
  },
  info("connector", "Connector", ["next"], { connection: { type: "string", title: "Connection" }, operation: { type: "string", title: "Operation" } }, ["connection", "operation"]),
  info("try_catch", "Try/Catch", ["try", "catch"], {}),
  info("stop", "Stop", [], { continue: { type: "boolean", default: true, title: "Continue" } }),
];
(SHAPES[4].schema.properties as Record<string, unknown>).cases = { type: "array", title: "Cases", items: { $ref: "#/$defs/RouteCase" } };
SHAPES[4].schema.$defs = {
  RouteCase: { type: "object", additionalProperties: false, properties: { value: { type: "string", title: "Value" }, next: next } },
};
