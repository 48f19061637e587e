import { act, cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ProcessEditor } from "./ProcessEditor";
import { fakeApi, installDomFakes, installEventSource, SHAPES } from "./testSupport";

beforeEach(() => installDomFakes());
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const XSS = "<img src=x onerror=alert(1)>";

const BODY = {
  type: "process", name: "Letters", id: "letters", start: "start",
  shapes: {
    start: { type: "start", next: "check" },
    check: { type: "decision", label: "Still a patient?", first: "a", true: "send", false: "stop" },
    send: { type: "connector", label: XSS, connection: "c", operation: "o", next: "stop" },
    stop: { type: "stop" },
  },
  layout: { start: { x: 0, y: 0 }, check: { x: 240, y: 0 }, send: { x: 480, y: 0 }, stop: { x: 720, y: 0 } },
};

const DOCUMENTS = [
  { index: 1, shape: "check", data: "name,email\nAlice,alice@example.com\n", content_type: "text/csv", properties: { "mail.to_address": "alice@example.com" } },
  { index: 2, shape: "check", data: `Dear Bob ${XSS}`, content_type: "text/plain", properties: { "dynamic.note": XSS } },
];

function setUp() {
  const events = installEventSource();
  const requests = fakeApi({
    "GET /shapes": { status: 200, body: SHAPES },
    "GET /components/letters": { status: 200, body: { id: "letters", type: "process", name: "Letters", version: 3, body: BODY } },
    "PUT /components/letters": { status: 200, body: { id: "letters", type: "process", name: "Letters", version: 4, body: BODY } },
    "POST /processes/letters/run": { status: 202, body: { execution_id: "ex-1" } },
    "GET /executions/ex-1/documents?shape=check": { status: 200, body: DOCUMENTS },
    "GET /executions/ex-1": { status: 200, body: { status: "failed", shapes: { check: { status: "failed", documents_in: 1, documents_out: 0, documents_failed: 1 } } } },
    "GET /executions/ex-1/log": { status: 200, body: [{ time: "2026-12-04T12:00:00Z", level: "INFO", shape: "send", message: `sent ${XSS}` }] },
  });
  render(<ProcessEditor componentId="letters" onClose={() => {}} />);
  return { events, requests };
}

const status = (name: string) => screen.getByRole("group", { name }).getAttribute("data-status");

describe("Test", () => {
  it("runs the saved process in test mode and lights shapes up from the event stream", async () => {
    const { events, requests } = setUp();
    await screen.findByRole("group", { name: "Still a patient?" });
    fireEvent.click(screen.getByRole("button", { name: "Test" }));
    await waitFor(() => expect(events.instances).toHaveLength(1));
    expect(requests.some((r) => r.method === "PUT")).toBe(false);
    expect(requests.find((r) => r.method === "POST")?.body).toEqual({ mode: "test" });
    const stream = events.instances[0];
    expect(stream.url).toBe("/api/executions/ex-1/events");
    act(() => stream.emit("shape", { shape: "start", status: "passed", documents_in: 1, documents_out: 1, documents_failed: 0 }));
    act(() => stream.emit("shape", { shape: "check", status: "running", documents_in: 2, documents_out: 0, documents_failed: 0 }));
    expect(status("start")).toBe("passed");
    expect(status("Still a patient?")).toBe("running");
    expect(screen.getByRole("group", { name: "Still a patient?" }).textContent).toContain("running");
    expect(status("stop")).toBe("idle");
    act(() => stream.emit("shape", { shape: "check", status: "passed", documents_in: 2, documents_out: 2, documents_failed: 0 }));
    act(() => stream.emit("shape", { shape: "send", status: "failed", documents_in: 1, documents_out: 0, documents_failed: 1 }));
    act(() => stream.emit("execution", { status: "complete with errors", documents_in: 1, documents_out: 0, documents_failed: 1 }));
    expect(stream.closed).toBe(true);
    expect(status("Still a patient?")).toBe("passed");
    expect(status(XSS)).toBe("failed");
    expect(screen.getByRole("group", { name: XSS }).textContent).toContain("failed · 1 in, 0 out, 1 failed");
    expect(screen.getByRole("group", { name: "Still a patient?" }).textContent).toContain("passed · 2 in, 2 out");
    await screen.findByRole("region", { name: "Process Log" });
    expect(screen.getByRole("status", { name: "Test run" }).textContent).toContain("complete with errors");
    expect(screen.getByRole("region", { name: "Process Log" }).textContent).toContain(`sent ${XSS}`);
  });

  it("lists the documents that entered a clicked shape, user data as text", async () => {
    const { events } = setUp();
    await screen.findByRole("group", { name: "Still a patient?" });
    fireEvent.click(screen.getByRole("button", { name: "Test" }));
    await waitFor(() => expect(events.instances).toHaveLength(1));
    act(() => events.instances[0].emit("execution", { status: "complete" }));
    await screen.findByRole("region", { name: "Process Log" });
    fireEvent.click(screen.getByRole("group", { name: "Still a patient?" }));
    const docs = await screen.findByRole("region", { name: "Documents of Still a patient?" });
    await within(docs).findByRole("article", { name: "Document 1" });
    const first = within(docs).getByRole("article", { name: "Document 1" });
    expect(within(first).getByRole("columnheader", { name: "email" })).toBeTruthy();
    const tables = within(first).getAllByRole("table");
    expect(tables.map((t) => t.querySelector("caption")?.textContent)).toEqual(["Data (CSV)", "Properties"]);
    expect(within(tables[0]).getByRole("cell", { name: "alice@example.com" })).toBeTruthy();
    expect(within(tables[1]).getByRole("row", { name: "mail.to_address alice@example.com" })).toBeTruthy();
    const second = within(docs).getByRole("article", { name: "Document 2" });
    expect(within(second).getByText(`Dear Bob ${XSS}`)).toBeTruthy();
    expect(within(second).getByRole("cell", { name: XSS })).toBeTruthy();
    expect(document.querySelector("img")).toBeNull();
    expect(screen.getByText(XSS, { selector: ".canvas-node-name" })).toBeTruthy();
  });

  it("keeps following through a retry, and takes the recorded state when the stream is refused", async () => {
    const { events, requests } = setUp();
    await screen.findByRole("group", { name: "Still a patient?" });
    fireEvent.click(screen.getByRole("button", { name: "Test" }));
    await waitFor(() => expect(events.instances).toHaveLength(1));
    const stream = events.instances[0];
    act(() => stream.fail(0));
    expect(requests.some((r) => r.path === "/executions/ex-1")).toBe(false);
    act(() => stream.fail(2));
    await screen.findByRole("region", { name: "Process Log" });
    // React Flow takes the new node attributes in an effect after the editor's render
    await waitFor(() => expect(status("Still a patient?")).toBe("failed"));
    expect(screen.getByRole("status", { name: "Test run" }).textContent).toContain("failed");
  });

  it("saves a changed process before testing it", async () => {
    const { events, requests } = setUp();
    await screen.findByRole("group", { name: "Still a patient?" });
    fireEvent.change(screen.getByLabelText("Component name"), { target: { value: "Letters 2" } });
    fireEvent.click(screen.getByRole("button", { name: "Test" }));
    await waitFor(() => expect(events.instances).toHaveLength(1));
    const methods = requests.filter((r) => r.method !== "GET").map((r) => `${r.method} ${r.path}`);
    expect(methods).toEqual(["PUT /components/letters", "POST /processes/letters/run"]);
  });
});
