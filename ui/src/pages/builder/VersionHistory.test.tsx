import { fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { fakeServer, json } from "../../test/fakeServer";
import { VersionHistory } from "./VersionHistory";

afterEach(() => vi.unstubAllGlobals());

describe("VersionHistory", () => {
  it("lists the versions and shows the diff between two, markup as text", async () => {
    const { calls } = fakeServer({
      "GET /api/components/c1/versions": json([
        { version: 2, name: "<b>New</b>", created_at: "2026-12-04T12:00:00Z" },
        { version: 1, name: "Old", created_at: "2026-12-04T11:00:00Z" }]),
      "GET /api/components/c1/diff": json({ from: 1, to: 2, diff: "--- v1\n+++ v2\n-name: Old\n+name: <b>New</b>\n" }),
    });
    render(<VersionHistory componentId="c1" latest={2} />);
    expect(await screen.findByText("<b>New</b>")).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Show Differences" }));
    const diff = await screen.findByLabelText("Differences between version 1 and 2");
    expect(diff.textContent).toContain("+name: <b>New</b>");
    expect(diff.querySelector("b")).toBeNull();
    expect(diff.querySelector(".added")?.textContent).toBe("+name: <b>New</b>\n");
    expect(diff.querySelector(".removed")?.textContent).toBe("-name: Old\n");
    expect(calls.map((c) => c.path)).toContain("/api/components/c1/diff?from=1&to=2");
  });
});
