import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { App } from "../../App";
import { fakeServer, json } from "../../test/fakeServer";

afterEach(() => vi.unstubAllGlobals());

const RUN = { id: "e1", process_id: "p1", process_name: "Send letters", process_version: 1, status: "complete_with_errors",
  mode: "normal", started_at: "2026-12-04T12:00:00Z", ended_at: "2026-12-04T12:00:02Z", duration_seconds: 2,
  documents_in: 3, documents_out: 2, documents_failed: 1, error: null, trigger: "api" };

describe("Process Reporting", () => {
  it("filters by status into the URL and the CSV link, shows the detail, re-runs failed documents", async () => {
    const { calls } = fakeServer({
      "GET /api/session": json({ user: { name: "ada", role: "builder" }, csrf_token: "t" }),
      "GET /api/components": json([{ id: "p1", type: "process", name: "Send letters", folder: null, version: 1, created_at: "" }]),
      "GET /api/executions": json([RUN]),
      "GET /api/executions/e1": json({ ...RUN, errors: [{ shape: "send", document: 2, message: "bad address <x>" }],
        log: [], shapes: { send: { status: "failed", documents_in: 3, documents_out: 2, documents_failed: 1 } },
        bounces: [{ recipient: "bob@example.net", kind: "bounce", action: "failed", status: "5.1.1",
          diagnostic: "550 5.1.1 no such user", message_id: "<l1@clinic.example>", reported_at: null,
          recorded_at: "2026-12-04T12:05:00Z" }],
        chunks: [{ shape: "flow", number: 1, node: "w1@host", documents: 2, status: "complete", attempts: 2, error: null }] }),
      "GET /api/executions/e1/log": json([{ time: "12:00", level: "INFO", shape: "send", message: "sent 2" }]),
      "POST /api/executions/e1/rerun": json({ execution_id: "e2" }, 202),
      "GET /api/executions/e2": json({ ...RUN, id: "e2", errors: [], log: [] }),
      "GET /api/executions/e2/log": json([]),
    });
    window.history.pushState({}, "", "/reporting");
    render(<App />);
    expect(await screen.findByText("complete with errors")).toBeTruthy();
    fireEvent.change(screen.getByLabelText("Status"), { target: { value: "failed" } });
    await waitFor(() => expect(calls.map((c) => c.path)).toContain("/api/executions?status=failed"));
    expect(screen.getByRole("link", { name: "Export as CSV" }).getAttribute("href")).toBe("/api/executions.csv?status=failed");
    fireEvent.click(screen.getByRole("link", { name: "Send letters" }));
    expect(await screen.findByText("bad address <x>")).toBeTruthy();
    const bounced = screen.getByRole("table", { name: "Bounced later" });
    expect(bounced.textContent).toContain("bob@example.net");
    expect(bounced.textContent).toContain("550 5.1.1 no such user");
    const chunks = screen.getByRole("table", { name: "Chunks" });
    expect(chunks.textContent).toContain("w1@host");
    expect((await screen.findByLabelText("Process log")).textContent).toContain("sent 2");
    fireEvent.click(screen.getByRole("button", { name: "Re-run failed documents" }));
    await waitFor(() => expect(window.location.pathname).toBe("/reporting/e2"));
  });

  it("shows the rows of the newest filters when an older answer arrives last", async () => {
    let releaseSlow: () => void = () => undefined;
    const slow = new Promise<void>((resolve) => { releaseSlow = resolve; });
    const FAILED = { ...RUN, id: "e9", process_name: "Failed run", status: "failed" };
    const answer = (value: unknown) => new Response(JSON.stringify(value), { status: 200 });
    vi.stubGlobal("fetch", vi.fn(async (input: RequestInfo | URL) => {
      const url = new URL(String(input), "http://localhost");
      const path = url.pathname + url.search;
      if (path === "/api/session") return answer({ user: { name: "ada", role: "builder" }, csrf_token: "t" });
      if (path === "/api/components") return answer([]);
      if (path === "/api/executions") { await slow; return answer([RUN]); }
      if (path === "/api/executions?status=failed") return answer([FAILED]);
      return new Response(JSON.stringify({ detail: "no route" }), { status: 404 });
    }));
    window.history.pushState({}, "", "/reporting");
    render(<App />);
    fireEvent.change(await screen.findByLabelText("Status"), { target: { value: "failed" } });
    expect(await screen.findByText("Failed run")).toBeTruthy();
    releaseSlow();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(screen.queryByText("Send letters")).toBeNull();
    expect(screen.getByText("Failed run")).toBeTruthy();
  });
});
