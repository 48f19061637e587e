import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ProcessEditor } from "./ProcessEditor";
import { fakeApi, installDomFakes, SHAPES, type Request } from "./testSupport";

beforeEach(() => installDomFakes());
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const node = (name: string) => screen.getByRole("group", { name });
const button = (name: string) => screen.getByRole("button", { name });
const palette = () => within(screen.getByRole("navigation", { name: "Shapes" }));

async function openNew(routes: Parameters<typeof fakeApi>[0] = {}): Promise<Request[]> {
  const requests = fakeApi({ "GET /shapes": { status: 200, body: SHAPES }, ...routes });
  render(<ProcessEditor componentId={null} onClose={() => {}} />);
  await screen.findByRole("button", { name: "Message" });
  return requests;
}

function addShape(title: string): void {
  fireEvent.click(palette().getByRole("button", { name: title }));
}

/** Select a shape by clicking it on the canvas; the side panel opens. */
function selectShape(name: string): HTMLElement {
  fireEvent.click(node(name));
  return screen.getByRole("complementary", { name: "Shape settings" });
}

function connectVia(panel: HTMLElement, outlet: string, target: string): void {
  const select = within(panel).getByLabelText(`Outlet ${outlet}`) as HTMLSelectElement;
  const option = Array.from(select.options).find((o) => o.textContent === target || o.value === target);
  fireEvent.change(select, { target: { value: option?.value } });
}

describe("the palette", () => {
  it("lists every shape type from /api/shapes and adds one by click", async () => {
    await openNew();
    expect(palette().getAllByRole("button").map((b) => b.textContent)).toEqual(SHAPES.map((s) => s.title));
    addShape("Start");
    expect(node("start").textContent).toContain("Start");
    const panel = screen.getByRole("complementary", { name: "Shape settings" });
    expect(within(panel).getByRole("heading").textContent).toBe("start"); // the new shape is selected
    addShape("Message");
    addShape("Message");
    expect(screen.getAllByRole("group", { name: "message" })).toHaveLength(2);
    expect(screen.getByTestId("rf__node-message-2")).toBeTruthy();
  });

  it("adds a shape dropped on the canvas (HTML5 drag and drop)", async () => {
    await openNew();
    const data = new Map<string, string>();
    const dataTransfer = { setData: (k: string, v: string) => data.set(k, v), getData: (k: string) => data.get(k) ?? "", effectAllowed: "", dropEffect: "" };
    fireEvent.dragStart(palette().getByRole("button", { name: "Decision" }), { dataTransfer });
    const surface = screen.getByTestId("canvas-surface");
    fireEvent.dragOver(surface, { dataTransfer });
    fireEvent.drop(surface, { dataTransfer, clientX: 300, clientY: 200 });
    expect(node("decision").textContent).toContain("Decision");
    expect(screen.getByTestId("handle-decision-true")).toBeTruthy();
    expect(screen.getByTestId("handle-decision-false")).toBeTruthy();
  });
});

describe("shapes and connections", () => {
  it("connects outlets, shows named handles per type, marks the start, and edits in the side panel", async () => {
    await openNew();
    ["Start", "Branch", "Message", "Stop"].forEach(addShape);
    connectVia(selectShape("start"), "next", "branch");
    let panel = selectShape("branch");
    connectVia(panel, "branch 1", "message");
    connectVia(panel, "branch 2", "stop");
    expect(screen.getByTestId("handle-branch-branch 3")).toBeTruthy();
    expect(screen.getByRole("group", { name: "start" }).textContent).toContain("Start");
    expect(screen.getByLabelText("branch branch 1 to message")).toBeTruthy();
    panel = selectShape("message");
    expect(within(panel).queryByLabelText(/^Next/)).toBeNull();
    fireEvent.change(within(panel).getByLabelText(/^Text/), { target: { value: "Hello" } });
    fireEvent.change(within(panel).getByLabelText(/^Label/), { target: { value: "Greeting" } });
    expect(node("Greeting").textContent).toContain("Message");
  });

  it("marks a shape with a validation badge until its required field is filled", async () => {
    await openNew();
    addShape("Message");
    expect(node("message").textContent).toContain("1 problem");
    const panel = selectShape("message");
    expect(within(panel).getByRole("list", { name: "Problems" }).textContent).toContain("text");
    fireEvent.change(within(panel).getByLabelText(/^Text/), { target: { value: "x" } });
    expect(node("message").textContent).not.toContain("problem");
  });

  it("deletes a shape with its connections", async () => {
    await openNew();
    addShape("Start");
    addShape("Stop");
    connectVia(selectShape("start"), "next", "stop");
    fireEvent.click(within(selectShape("stop")).getByRole("button", { name: "Delete shape" }));
    expect(screen.queryByRole("group", { name: "stop" })).toBeNull();
    expect(screen.queryByLabelText("start next to stop")).toBeNull();
  });
});

describe("deleting with the keyboard", () => {
  it("removes the selected shape and its connections in one undo step", async () => {
    await openNew();
    addShape("Start");
    addShape("Stop");
    connectVia(selectShape("start"), "next", "stop");
    fireEvent.click(node("stop"));
    fireEvent.keyDown(node("stop"), { key: "Delete" });
    await waitFor(() => expect(screen.queryByRole("group", { name: "stop" })).toBeNull());
    expect(screen.queryByLabelText("start next to stop")).toBeNull();
    fireEvent.click(button("Undo"));
    expect(node("stop")).toBeTruthy();
    expect(screen.getByLabelText("start next to stop")).toBeTruthy();
  });
});

describe("undo and redo", () => {
  it("undoes and redoes with the buttons and with Ctrl+Z / Ctrl+Shift+Z", async () => {
    await openNew();
    addShape("Start");
    addShape("Stop");
    expect(button("Undo")).toHaveProperty("disabled", false);
    fireEvent.click(button("Undo"));
    expect(screen.queryByRole("group", { name: "stop" })).toBeNull();
    fireEvent.click(button("Redo"));
    expect(node("stop")).toBeTruthy();
    const editor = screen.getByRole("region", { name: "Process canvas" });
    fireEvent.keyDown(editor, { key: "z", ctrlKey: true });
    fireEvent.keyDown(editor, { key: "z", ctrlKey: true });
    expect(screen.queryByRole("group", { name: "start" })).toBeNull();
    expect(button("Undo")).toHaveProperty("disabled", true);
    fireEvent.keyDown(editor, { key: "Z", ctrlKey: true, shiftKey: true });
    expect(node("start")).toBeTruthy();
    expect(screen.queryByRole("group", { name: "stop" })).toBeNull();
    fireEvent.keyDown(document.body, { key: "z", ctrlKey: true }); // focus left with a deleted shape
    expect(screen.queryByRole("group", { name: "start" })).toBeNull();
    fireEvent.keyDown(within(palette().getByRole("list")).getAllByRole("button")[0], { key: "y", ctrlKey: true });
    expect(node("start")).toBeTruthy();
  });
});

describe("typing in the side panel", () => {
  it("makes one undo step of quick edits to one shape", async () => {
    await openNew();
    addShape("Message");
    const panel = selectShape("message");
    const label = () => within(panel).getByLabelText(/^Label/) as HTMLInputElement;
    fireEvent.change(label(), { target: { value: "G" } });
    fireEvent.change(label(), { target: { value: "Gr" } });
    fireEvent.change(label(), { target: { value: "Greeting" } });
    expect(node("Greeting")).toBeTruthy();
    fireEvent.click(button("Undo"));
    expect(node("message")).toBeTruthy();
    expect(label().value).toBe("");
    fireEvent.click(button("Undo"));
    expect(screen.queryByRole("group", { name: "message" })).toBeNull();
  });
});

describe("saving", () => {
  it("POSTs the exact body with the layout, then PUTs with base_version, then closes", async () => {
    const saved = { id: "hello", type: "process", name: "Hello", version: 1, body: {} };
    const onClose = vi.fn();
    const requests = fakeApi({
      "GET /shapes": { status: 200, body: SHAPES },
      "POST /components": { status: 201, body: saved },
      "PUT /components/hello": { status: 200, body: { ...saved, version: 2 } },
    });
    render(<ProcessEditor componentId={null} onClose={onClose} />);
    await screen.findByRole("button", { name: "Message" });
    fireEvent.change(screen.getByLabelText("Component name"), { target: { value: "Hello" } });
    addShape("Start");
    addShape("Stop");
    connectVia(selectShape("start"), "next", "stop");
    fireEvent.click(button("Save"));
    await screen.findByText("Saved version 1");
    const post = requests.find((r) => r.method === "POST");
    expect(post?.path).toBe("/components");
    expect(post?.body).toEqual({
      body: {
        type: "process", name: "Hello", start: "start",
        shapes: { start: { type: "start", next: "stop" }, stop: { type: "stop" } },
        layout: { start: { x: 0, y: 0 }, stop: { x: 240, y: 0 } },
      },
    });
    fireEvent.change(screen.getByLabelText("Component name"), { target: { value: "Hello again" } });
    fireEvent.click(button("Save and Close"));
    await waitFor(() => expect(onClose).toHaveBeenCalled());
    const put = requests.find((r) => r.method === "PUT");
    expect(put?.body).toEqual({ body: { ...(post?.body as { body: object }).body, name: "Hello again" }, base_version: 1 });
  });

  it("loads a saved process, and on a 422 shows the errors at the shapes and keeps what was typed", async () => {
    const body = {
      type: "process", name: "Old", id: "old", start: "start",
      shapes: { start: { type: "start", next: "send" }, send: { type: "connector", label: "Send it", connection: "c", operation: "o" } },
      layout: { start: { x: 0, y: 0 }, send: { x: 300, y: 10 } },
    };
    const requests = fakeApi({
      "GET /shapes": { status: 200, body: SHAPES },
      "GET /components/old": { status: 200, body: { id: "old", type: "process", name: "Old", version: 4, body } },
      "PUT /components/old": {
        status: 422,
        body: { detail: "the process has errors", errors: [{ field: "shapes.send.connection", message: "no connection c", fix: "create it first" }, { field: "name", message: "too long" }] },
      },
    });
    render(<ProcessEditor componentId="old" onClose={() => {}} />);
    await screen.findByRole("group", { name: "Send it" });
    fireEvent.change(screen.getByLabelText("Component name"), { target: { value: "New name" } });
    fireEvent.click(button("Save"));
    await screen.findByText("Not saved: the process has errors");
    expect(requests.find((r) => r.method === "PUT")?.body).toEqual({ body: { ...body, name: "New name" }, base_version: 4 });
    expect(node("Send it").textContent).toContain("1 problem");
    expect(screen.getByRole("alert", { name: "Errors" }).textContent).toContain("name: too long");
    const panel = selectShape("Send it");
    expect(within(panel).getByRole("list", { name: "Problems" }).textContent).toContain("connection: no connection c (create it first)");
    const field = within(panel).getByLabelText(/^Connection/).closest(".form-group");
    expect(field?.textContent).toContain("no connection c (create it first)");
    expect(screen.getByLabelText("Component name")).toHaveProperty("value", "New name");
  });
});

describe("shape ids", () => {
  it("names a new shape after its label once left or saved, and never renames a loaded one", async () => {
    const body = { type: "process", name: "Old", id: "old", start: "start",
      shapes: { start: { type: "start", label: "Begin", next: "stop" }, stop: { type: "stop" } },
      layout: { start: { x: 0, y: 0 }, stop: { x: 300, y: 0 } } };
    const requests = fakeApi({
      "GET /shapes": { status: 200, body: SHAPES },
      "GET /components/old": { status: 200, body: { id: "old", type: "process", name: "Old", version: 1, body } },
      "PUT /components/old": { status: 200, body: { id: "old", type: "process", name: "Old", version: 2, body: {} } },
    });
    render(<ProcessEditor componentId="old" onClose={() => {}} />);
    await screen.findByRole("group", { name: "Begin" });
    addShape("Message");
    addShape("Decision"); // dropped after, it does not change the message's id
    let panel = selectShape("message");
    fireEvent.change(within(panel).getByLabelText(/^Label/), { target: { value: "Send the Letter!" } });
    expect(within(panel).getByText("message")).toBeTruthy(); // not renamed while typing
    connectVia(panel, "next", "stop");
    selectShape("Begin"); // leaving it names it
    expect(screen.getByTestId("rf__node-send-the-letter")).toBeTruthy();
    panel = selectShape("decision");
    fireEvent.change(within(panel).getByLabelText(/^Label/), { target: { value: "Send the letter" } });
    fireEvent.click(button("Save")); // saving names the selected one too, made unique
    await screen.findByText("Saved version 2");
    const shapes = (requests.find((r) => r.method === "PUT")?.body as { body: { shapes: Record<string, unknown> } }).body.shapes;
    expect(Object.keys(shapes).sort()).toEqual(["send-the-letter", "send-the-letter-2", "start", "stop"]);
    expect(shapes["send-the-letter"]).toEqual({ type: "message", label: "Send the Letter!", next: "stop" });
    expect(within(screen.getByRole("complementary", { name: "Shape settings" })).getByText("send-the-letter-2")).toBeTruthy();
    selectShape("Begin");
    fireEvent.change(within(screen.getByRole("complementary", { name: "Shape settings" })).getByLabelText(/^Label/), { target: { value: "Go" } });
    selectShape("Send the letter");
    expect(screen.getByTestId("rf__node-start")).toBeTruthy(); // loaded with the process: kept
  });
});

describe("a process that cannot be loaded", () => {
  it("says so and offers no Save that would overwrite it", async () => {
    fakeApi({ "GET /shapes": { status: 200, body: SHAPES }, "GET /components/gone": { status: 404, body: { detail: "no component gone" } } });
    render(<ProcessEditor componentId="gone" onClose={() => {}} />);
    await screen.findByText("The process could not be loaded: no component gone");
    expect(button("Save")).toHaveProperty("disabled", true);
    expect(button("Test")).toHaveProperty("disabled", true);
  });
});

describe("read-only (a viewer)", () => {
  it("shows the shapes and their settings but offers no change, save or test", async () => {
    const body = { type: "process", name: "P", id: "p", start: "start", shapes: { start: { type: "start", label: "Begin", next: "end" }, end: { type: "stop" } } };
    fakeApi({ "GET /shapes": { status: 200, body: SHAPES }, "GET /components/p": { status: 200, body: { id: "p", type: "process", name: "P", version: 1, body } } });
    render(<ProcessEditor componentId="p" onClose={() => {}} readOnly />);
    await screen.findByRole("group", { name: "Begin" });
    expect(screen.queryByRole("navigation", { name: "Shapes" })).toBeNull();
    for (const name of ["Save", "Save and Close", "Test", "Undo"]) expect(button(name)).toHaveProperty("disabled", true);
    const panel = selectShape("Begin");
    expect(within(panel).getByLabelText(/^Label/)).toHaveProperty("readOnly", true);
    expect(within(panel).getByLabelText("Outlet next")).toHaveProperty("disabled", true);
    expect(within(panel).queryByRole("button", { name: "Delete shape" })).toBeNull();
  });
});

describe("onSaved", () => {
  it("starts a new process with the create dialog's name and folder, and tells the new id after the first save", async () => {
    const onSaved = vi.fn();
    const requests = fakeApi({
      "GET /shapes": { status: 200, body: SHAPES },
      "POST /components": { status: 201, body: { id: "fresh", type: "process", name: "Fresh", version: 1, body: {} } },
    });
    render(<ProcessEditor componentId={null} onClose={() => {}} onSaved={onSaved} spec={{ name: "Fresh", folder: "Tutorials" }} />);
    await screen.findByRole("button", { name: "Message" });
    expect(screen.getByLabelText("Component name")).toHaveProperty("value", "Fresh");
    fireEvent.click(button("Save"));
    await waitFor(() => expect(onSaved).toHaveBeenCalledWith({ id: "fresh", version: 1, name: "Fresh" }));
    expect(requests.find((r) => r.method === "POST")?.body).toEqual({
      body: { type: "process", name: "Fresh", folder: "Tutorials", shapes: {}, layout: {} },
    });
  });
});

describe("defaults in the side panel", () => {
  it("shows a schema default without writing it into the shape, and writes a changed value", async () => {
    const requests = await openNew({
      "POST /components": { status: 201, body: { id: "p", type: "process", name: "P", version: 1, body: {} } },
      "PUT /components/p": { status: 200, body: { id: "p", type: "process", name: "P", version: 2, body: {} } },
    });
    addShape("Stop");
    const panel = selectShape("stop");
    const box = within(panel).getByLabelText("Continue") as HTMLInputElement;
    expect(box.checked).toBe(true);
    expect(button("Undo")).toHaveProperty("disabled", false); // the add only
    fireEvent.click(button("Save"));
    await screen.findByText("Saved version 1");
    expect((requests.at(-1)?.body as { body: { shapes: object } }).body.shapes).toEqual({ stop: { type: "stop" } });
    fireEvent.click(box);
    fireEvent.click(button("Save"));
    await screen.findByText("Saved version 2");
    expect((requests.at(-1)?.body as { body: { shapes: object } }).body.shapes).toEqual({ stop: { type: "stop", continue: false } });
  });
});
