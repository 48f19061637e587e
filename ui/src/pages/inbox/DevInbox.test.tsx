import { fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { App } from "../../App";
import { fakeServer, json } from "../../test/fakeServer";

const XSS = "<script>window.pwned=1</script><b>bold</b>";
const SESSION = { "GET /api/session": json({ user: { name: "ada", role: "viewer" }, csrf_token: "t" }) };

afterEach(() => vi.unstubAllGlobals());

describe("Dev Inbox", () => {
  it("says so when devmail is not running", async () => {
    fakeServer({ ...SESSION, "GET /api/devmail": json({ running: false, smtp_port: null, pop3_port: null, web_port: null }) });
    window.history.pushState({}, "", "/inbox");
    render(<App />);
    expect((await screen.findByRole("status")).textContent).toContain("Dev mail is not running for this POSTROOM_HOME");
  });

  it("names every port devmail took, with the connection settings each needs", async () => {
    fakeServer({ ...SESSION, "GET /api/devmail": json({ running: true, smtp_port: 2525, smtps_port: 2465, pop3_port: 1110,
      pop3s_port: 1995, web_port: 8025, host: "localhost", starttls: true, ca_file: "/home/p/devmail/ca.pem" }),
      "GET /api/devmail/messages": json([]) });
    window.history.pushState({}, "", "/inbox");
    render(<App />);
    const table = await screen.findByRole("table", { name: "Ports" });
    const rows = Array.from(table.querySelectorAll("tbody tr")).map((r) => Array.from(r.querySelectorAll("td")).map((c) => c.textContent));
    expect(rows.map((r) => [r[0], r[1], r[2]])).toEqual([
      ["SMTP", "2525", "STARTTLS available"], ["SMTPS", "2465", "TLS from the first byte"],
      ["POP3", "1110", "STARTTLS available"], ["POP3S", "1995", "TLS from the first byte"],
      ["Web inbox", "8025", "plain (this machine)"],
    ]);
    expect(rows[1][3]).toBe("Send; Use SSL? on");
    const ports = screen.getByRole("region", { name: "Dev mail ports" }).textContent ?? "";
    expect(ports).toContain("localhost");
    expect(ports).toContain("/home/p/devmail/ca.pem");
  });

  it("shows only the ports a plain devmail took", async () => {
    fakeServer({ ...SESSION, "GET /api/devmail": json({ running: true, smtp_port: 2525, smtps_port: null, pop3_port: null,
      pop3s_port: null, web_port: 8025, host: "127.0.0.1", starttls: false, ca_file: null }), "GET /api/devmail/messages": json([]) });
    window.history.pushState({}, "", "/inbox");
    render(<App />);
    const table = await screen.findByRole("table", { name: "Ports" });
    expect(Array.from(table.querySelectorAll("tbody tr td:first-child")).map((c) => c.textContent)).toEqual(["SMTP", "Web inbox"]);
    expect(table.textContent).toContain("Send; Use TLS? and Use SSL? off");
  });

  it("lists messages and shows one: subject as text, HTML in a sandboxed iframe, raw source", async () => {
    fakeServer({
      ...SESSION,
      "GET /api/devmail": json({ running: true, smtp_port: 2525, pop3_port: 1110, web_port: 8025 }),
      "GET /api/devmail/messages": json([{ id: "m1", from: "a@x", to: ["b@y"], subject: XSS, date: "Fri, 4 Dec 2026", size: 10 }]),
      "GET /api/devmail/messages/m1": json({ id: "m1", from: "a@x", to: ["b@y"], subject: XSS,
        headers: [["Subject", XSS], ["From", "a@x"]],
        parts: [{ content_type: "text/html", filename: null, text: null, html: "<p>Hi</p><script>parent.pwned=1</script>", size: 40 }] }),
      "GET /api/devmail/messages/m1/raw": () => ({ text: "Subject: hi\r\n\r\n<p>Hi</p>" }),
    });
    window.history.pushState({}, "", "/inbox");
    render(<App />);
    fireEvent.click(await screen.findByRole("link", { name: XSS }));
    expect(await screen.findByRole("heading", { name: XSS })).toBeTruthy();
    expect(document.querySelector("script")).toBeNull();
    expect(document.querySelector("b")).toBeNull();
    const frame = screen.getByTitle("HTML body, part 1") as HTMLIFrameElement;
    expect(frame.getAttribute("sandbox")).toBe("");
    expect(frame.getAttribute("srcdoc")).toContain("<p>Hi</p>");
    fireEvent.click(screen.getByRole("button", { name: "Raw Source" }));
    expect((await screen.findByLabelText("Raw source")).textContent).toContain("Subject: hi");
    expect((window as unknown as { pwned?: number }).pwned).toBeUndefined();
  });
});
