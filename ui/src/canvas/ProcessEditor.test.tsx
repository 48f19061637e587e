import { act, cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ProcessEditor } from "./ProcessEditor";
import { fakeApi, installDomFakes, SHAPES } from "./testSupport";

beforeEach(() => installDomFakes());
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function node(name: string): HTMLElement {
  return screen.getByRole("group", { name });
}

describe("the palette", () => {
  it("lists every shape type from /api/shapes and adds one by click", async () => {
    fakeApi({ "GET /shapes": { status: 200, body: SHAPES } });
    render(<ProcessEditor componentId={null} onClose={() => {}} />);
    const palette = await screen.findByRole("navigation", { name: "Shapes" });
    await within(palette).findByRole("button", { name: "Message" });
    expect(within(palette).getAllByRole("button").map((b) => b.textContent)).toEqual(SHAPES.map((s) => s.title));
    fireEvent.click(within(palette).getByRole("button", { name: "Start" }));
    await waitFor(() => expect(node("start")).toBeTruthy());
    expect(node("start").textContent).toContain("Start");
  });
});
