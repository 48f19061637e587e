import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ProcessEditor } from "./ProcessEditor";
import { fakeApi, installDomFakes, SHAPES } from "./testSupport";

beforeEach(() => installDomFakes());
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const action = (enumValues: string[], names: string[]) => ({ properties: { action: { type: "string", enum: enumValues, "x-enumNames": names } } });
const CONNECTORS = [
  { name: "mail", title: "Mail", connection_schema: {}, operation_schema: action(["send", "get"], ["Send", "Get"]) },
  { name: "disk", title: "Disk", connection_schema: {}, operation_schema: action(["get", "send"], ["Get", "Send"]) },
];
const summary = (id: string, type: string, name: string, connector: string | null) =>
  ({ id, type, name, connector, folder: null, version: 1, created_at: "2026-12-04T00:00:00Z" });
const COMPONENTS = [
  summary("gmail", "connection", "Gmail Mail Connection", "mail"),
  summary("outbox", "connection", "Outbox folder", "disk"),
  summary("send", "operation", "Gmail Send", "mail"),
  summary("read", "operation", "Gmail Get", "mail"),
  summary("write", "operation", "Write files", "disk"),
];
const OPERATIONS = COMPONENTS.filter((c) => c.type === "operation").map((c) => ({
  ...c, body: { type: "operation", connector: c.connector, name: c.name, settings: { action: c.id === "read" ? "get" : "send" } },
}));

function open(shapes: Record<string, unknown>) {
  const body = { type: "process", name: "P", id: "p", start: "start", shapes, layout: {} };
  return fakeApi({
    "GET /shapes": { status: 200, body: SHAPES },
    "GET /components/p": { status: 200, body: { id: "p", type: "process", name: "P", version: 1, body } },
    "GET /components?body=false": { status: 200, body: COMPONENTS },
    "GET /components?type=operation&body=true": { status: 200, body: OPERATIONS },
    "GET /connectors": { status: 200, body: CONNECTORS },
    "PUT /components/p": { status: 200, body: { id: "p", type: "process", name: "P", version: 2, body: {} } },
  });
}

const options = (select: HTMLElement) => Array.from((select as HTMLSelectElement).options).map((o) => o.textContent);

describe("component pickers on the connector shape", () => {
  it("lists connections by name for the chosen connector, operations by connector and action, and stores ids", async () => {
    const requests = open({ start: { type: "start", next: "out" }, out: { type: "connector", label: "Send it", connection: "", operation: "" } });
    render(<ProcessEditor componentId="p" onClose={() => {}} />);
    fireEvent.click(await screen.findByRole("group", { name: "Send it" }));
    const panel = within(screen.getByRole("complementary", { name: "Shape settings" }));
    const connection = panel.getByRole("combobox", { name: /^Connection/ });
    await waitFor(() => expect(options(connection)).toContain("Outbox folder"));
    expect(options(connection)).toEqual(["(choose connection)", "Gmail Mail Connection", "Outbox folder"]);
    fireEvent.change(panel.getByRole("combobox", { name: "Connector" }), { target: { value: "mail" } });
    expect(options(connection)).toEqual(["(choose connection)", "Gmail Mail Connection"]);
    fireEvent.change(connection, { target: { value: "gmail" } });
    const operation = panel.getByRole("combobox", { name: /^Operation/ });
    expect(options(operation)).toEqual(["(choose operation)", "Gmail Send", "Gmail Get"]);
    fireEvent.change(panel.getByRole("combobox", { name: "Action" }), { target: { value: "send" } });
    expect(options(operation)).toEqual(["(choose operation)", "Gmail Send"]);
    fireEvent.change(operation, { target: { value: "send" } });
    fireEvent.click(screen.getByRole("button", { name: "Save" }));
    await screen.findByText("Saved version 2");
    const put = requests.find((r) => r.method === "PUT")?.body as { body: { shapes: Record<string, unknown> } };
    expect(put.body.shapes.out).toEqual({ type: "connector", label: "Send it", connection: "gmail", operation: "send" });
  });

  it("starts from what the shape names, and keeps an id that names no component", async () => {
    open({ start: { type: "start", next: "out" }, out: { type: "connector", label: "Send it", connection: "outbox", operation: "gone" } });
    render(<ProcessEditor componentId="p" onClose={() => {}} />);
    fireEvent.click(await screen.findByRole("group", { name: "Send it" }));
    const panel = within(screen.getByRole("complementary", { name: "Shape settings" }));
    const connector = panel.getByRole("combobox", { name: "Connector" }) as HTMLSelectElement;
    await waitFor(() => expect(connector.value).toBe("disk"));
    const operation = panel.getByRole("combobox", { name: /^Operation/ }) as HTMLSelectElement;
    expect(options(operation)).toEqual(["(choose operation)", "Write files", "gone (not found)"]);
    expect(operation.value).toBe("gone");
    expect(options(panel.getByRole("combobox", { name: "Action" }))).toEqual(["(any action)", "Get", "Send"]);
  });
});

describe("pickers of other components", () => {
  it("lists maps for a Map shape and processes for a Process Call, by name", async () => {
    const shape = (type: string, title: string, key: string) => ({ type, title, outlets: ["next"],
      schema: { type: "object", required: ["type", key], properties: { type: { const: type }, label: { type: "string", title: "Label" },
        [key]: { type: "string", title: key === "map" ? "Map" : "Process" }, next: { anyOf: [{ type: "string" }, { type: "null" }] } } } });
    const body = { type: "process", name: "P", id: "p", start: "m", shapes: { m: { type: "map", map: "" }, call: { type: "process_call", process: "" } }, layout: {} };
    fakeApi({
      "GET /shapes": { status: 200, body: [shape("map", "Map", "map"), shape("process_call", "Process Call", "process")] },
      "GET /components/p": { status: 200, body: { id: "p", type: "process", name: "P", version: 1, body } },
      "GET /components?body=false": { status: 200, body: [...COMPONENTS, summary("csv-to-json", "map", "CSV to JSON", null),
        summary("p", "process", "P", null), summary("letters", "process", "Personal letters", null)] },
      "GET /components?type=operation&body=true": { status: 200, body: OPERATIONS },
      "GET /connectors": { status: 200, body: CONNECTORS },
    });
    render(<ProcessEditor componentId="p" onClose={() => {}} />);
    fireEvent.click(await screen.findByRole("group", { name: "map" }));
    let panel = within(screen.getByRole("complementary", { name: "Shape settings" }));
    const map = panel.getByRole("combobox", { name: /^Map/ });
    await waitFor(() => expect(options(map)).toEqual(["(choose map)", "CSV to JSON"]));
    fireEvent.change(map, { target: { value: "csv-to-json" } });
    expect((map as HTMLSelectElement).value).toBe("csv-to-json");
    fireEvent.click(screen.getByRole("group", { name: "process_call" }));
    panel = within(screen.getByRole("complementary", { name: "Shape settings" }));
    const process = panel.getByRole("combobox", { name: /^Process/ });
    await waitFor(() => expect(options(process)).toEqual(["(choose process)", "P", "Personal letters"]));
  });
});
