import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { App } from "../../App";
import { fakeServer, json, type Handler } from "../../test/fakeServer";
import { mailConnectionSchema, mailOperationSchema } from "../../test/mailSchema";

const CONNECTORS = [
  { name: "mail", title: "Mail", connection_schema: mailConnectionSchema, operation_schema: mailOperationSchema },
  { name: "disk", title: "Disk", connection_schema: { type: "object", properties: {} }, operation_schema: { type: "object", properties: {} } },
];
const SECRET = "hunter2-very-secret";

function saved(body: Record<string, unknown>, version = 1) {
  const settings = { ...(body.settings as Record<string, unknown>) };
  const hasPassword = typeof settings.password === "string";
  if (hasPassword) settings.password = "${secret:gmail-mail-connection.password}";
  return { id: "gmail-mail-connection", type: "connection", name: body.name, folder: null, version,
    created_at: "2026-12-04T12:00:00Z", connector: "mail", body: { ...body, id: "gmail-mail-connection", settings },
    secrets: { password: hasPassword ? "set" : "not set" } };
}

function serve(role: string, extra: Record<string, Handler> = {}) {
  return fakeServer({
    "GET /api/session": json({ user: { name: "ada", role }, csrf_token: "tok" }),
    "GET /api/components": json([]),
    "GET /api/connectors": json(CONNECTORS),
    ...extra,
  });
}

async function createMailConnection() {
  fireEvent.click(await screen.findByRole("button", { name: "Create New" }));
  const menu = screen.getByRole("menu");
  expect(within(menu).getAllByRole("menuitem").map((i) => i.textContent)).toEqual(
    ["Connection", "Connector Operation", "Process", "Profile", "Map"]);
  fireEvent.click(within(menu).getByRole("menuitem", { name: "Connection" }));
  const dialog = screen.getByRole("dialog");
  const connector = within(dialog).getByLabelText("Connector") as HTMLSelectElement;
  await waitFor(() => expect([...connector.options].map((o) => o.text)).toEqual(["Mail", "Disk"]));
  fireEvent.change(connector, { target: { value: "mail" } });
  fireEvent.click(within(dialog).getByRole("button", { name: "Create" }));
  const name = await screen.findByLabelText("Component name");
  fireEvent.change(name, { target: { value: "Gmail Mail Connection" } });
  expect(screen.getByRole("tab", { name: "Connection" }).getAttribute("aria-selected")).toBe("true");
  fireEvent.change(await screen.findByLabelText("Host"), { target: { value: "smtp.gmail.com" } });
}

beforeEach(() => window.history.pushState({}, "", "/build"));
afterEach(() => vi.unstubAllGlobals());

describe("Build", () => {
  it("creates a Mail connection; the Click to set password goes to the server on Save and is never shown", async () => {
    let stored: ReturnType<typeof saved> | null = null;
    const { calls } = serve("builder", {
      "POST /api/components": (call) => {
        stored = saved((call.body as { body: Record<string, unknown> }).body);
        return { status: 201, json: stored };
      },
      "GET /api/components/gmail-mail-connection": () => ({ json: stored }),
    });
    render(<App />);
    await createMailConnection();
    fireEvent.click(screen.getByLabelText("User/Password Authorization?"));
    fireEvent.change(screen.getByLabelText("User Name"), { target: { value: "me@gmail.com" } });
    expect(screen.getByText("not set")).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Click to set" }));
    const dialog = screen.getByRole("dialog");
    fireEvent.change(within(dialog).getByLabelText("Password"), { target: { value: SECRET } });
    fireEvent.click(within(dialog).getByRole("button", { name: "Apply" }));
    expect(screen.queryByRole("dialog")).toBeNull();
    expect(document.body.innerHTML).not.toContain(SECRET);
    fireEvent.click(screen.getByRole("button", { name: "Save" }));
    expect(await screen.findByText("Saved version 1.")).toBeTruthy();
    const post = calls.find((c) => c.method === "POST" && c.path === "/api/components")!;
    const body = (post.body as { body: { type: string; connector: string; name: string; settings: Record<string, unknown> } }).body;
    expect(body).toMatchObject({ type: "connection", connector: "mail", name: "Gmail Mail Connection" });
    expect(body.settings).toMatchObject({ host: "smtp.gmail.com", user_password_auth: true, user_name: "me@gmail.com", password: SECRET });
    expect(post.headers["X-CSRF-Token"]).toBe("tok");
    expect(window.location.pathname).toBe("/build/c/gmail-mail-connection");
    expect(await screen.findByText("set")).toBeTruthy();
    expect(document.body.innerHTML).not.toContain(SECRET);
  });

  it("shows a server validation error at its field with the fix, and keeps what was typed", async () => {
    const error = { detail: "settings.port: must be at most 65535", errors: [
      { field: "settings.port", message: "Port 70000 is out of range", fix: "use a port from 1 to 65535" }] };
    serve("builder", { "POST /api/components": () => ({ status: 422, json: error }) });
    render(<App />);
    await createMailConnection();
    fireEvent.change(screen.getByLabelText("Port"), { target: { value: "70000" } });
    fireEvent.click(screen.getByRole("button", { name: "Save" }));
    const port = screen.getByLabelText("Port");
    await waitFor(() => expect(port.getAttribute("aria-describedby")).toBeTruthy());
    const alert = (await screen.findAllByRole("alert")).find((a) => a.textContent?.includes("out of range"))!;
    expect(alert.textContent).toBe("Port 70000 is out of range — use a port from 1 to 65535");
    expect(port.getAttribute("aria-describedby")!.split(" ")).toContain(alert.id);
    expect((screen.getByLabelText("Host") as HTMLInputElement).value).toBe("smtp.gmail.com");
    expect((screen.getByLabelText("Component name") as HTMLInputElement).value).toBe("Gmail Mail Connection");
    expect((port as HTMLInputElement).value).toBe("70000");
  });

  it("sends no password on an update unless it was set again", async () => {
    const existing = saved({ type: "connection", connector: "mail", name: "Gmail", settings: { host: "h", password: "x" } });
    window.history.pushState({}, "", "/build/c/gmail-mail-connection");
    const { calls } = serve("builder", {
      "GET /api/components/gmail-mail-connection": json(existing),
      "PUT /api/components/gmail-mail-connection": (call) => ({ json: { ...existing, version: 2, body: (call.body as { body: unknown }).body } }),
    });
    render(<App />);
    fireEvent.change(await screen.findByLabelText("Host"), { target: { value: "smtp.example.com" } });
    fireEvent.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() => expect(calls.map((c) => `${c.method} ${c.path}`)).toContain("PUT /api/components/gmail-mail-connection"));
    await screen.findByText("Saved version 2.");
    const put = calls.find((c) => c.method === "PUT")!.body as { body: { settings: Record<string, unknown> }; base_version: number };
    expect(put.base_version).toBe(1);
    expect(put.body.settings.host).toBe("smtp.example.com");
    expect("password" in put.body.settings).toBe(false);
  });

  it("shows viewers a read-only form with no Save and no Create New", async () => {
    const existing = saved({ type: "connection", connector: "mail", name: "Gmail", settings: { host: "h" } });
    window.history.pushState({}, "", "/build/c/gmail-mail-connection");
    serve("viewer", { "GET /api/components/gmail-mail-connection": json(existing) });
    render(<App />);
    expect(((await screen.findByLabelText("Host")) as HTMLInputElement).readOnly).toBe(true);
    expect(screen.queryByRole("button", { name: "Save" })).toBeNull();
    expect(screen.queryByRole("button", { name: "Save and Close" })).toBeNull();
    expect(screen.queryByRole("button", { name: "Create New" })).toBeNull();
  });

  it("lists components in folders, as text, filtered by the search box", async () => {
    const xss = "<img src=x onerror=alert(1)>";
    serve("builder", { "GET /api/components": json([
      { id: "a", type: "connection", name: xss, folder: "Mail/Gmail", version: 1, created_at: "", connector: "mail" },
      { id: "b", type: "process", name: "Send letters", folder: null, version: 1, created_at: "" }]) });
    render(<App />);
    expect(await screen.findByRole("link", { name: xss })).toBeTruthy();
    expect(screen.getByText("Gmail")).toBeTruthy();
    expect(document.querySelector("img")).toBeNull();
    fireEvent.change(screen.getByLabelText("Search components"), { target: { value: "letters" } });
    expect(screen.queryByRole("link", { name: xss })).toBeNull();
    expect(screen.getByRole("link", { name: "Send letters" })).toBeTruthy();
  });

  it("tests a saved connection and refuses to delete one in use, naming its users", async () => {
    const existing = saved({ type: "connection", connector: "mail", name: "Gmail", settings: { host: "h" } });
    window.history.pushState({}, "", "/build/c/gmail-mail-connection");
    serve("builder", {
      "GET /api/components/gmail-mail-connection": json(existing),
      "POST /api/components/gmail-mail-connection/test": json({ ok: false, summary: "SMTP h:587: connection refused", details: {} }),
      "DELETE /api/components/gmail-mail-connection": json({ detail: "gmail-mail-connection is in use", used_by: [
        { id: "send", type: "process", name: "Send letters" }] }, 409),
    });
    render(<App />);
    fireEvent.click(await screen.findByRole("button", { name: "Test Connection" }));
    expect((await screen.findByText(/connection refused/)).textContent).toBe("Failed: SMTP h:587: connection refused");
    fireEvent.click(screen.getByRole("button", { name: "Delete" }));
    fireEvent.click(screen.getByRole("button", { name: "Yes, delete" }));
    expect((await screen.findByText(/in use/)).textContent).toBe("gmail-mail-connection is in use Used by: Send letters.");
    expect(window.location.pathname).toBe("/build/c/gmail-mail-connection");
  });
});
