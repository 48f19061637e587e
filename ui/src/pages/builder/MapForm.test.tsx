import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { useState } from "react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { FieldError } from "../../api";
import { fakeServer, json } from "../../test/fakeServer";
import type { Body } from "../../types";
import { MapForm } from "./MapForm";

afterEach(() => vi.unstubAllGlobals());

const profile = (id: string, name: string, body: Record<string, unknown>) =>
  ({ id, type: "profile", name, folder: null, version: 1, created_at: "2026-12-04T00:00:00Z", body });
const PROFILES = [
  profile("patient-csv", "Patient CSV", { type: "profile", profile_type: "flat_file", fields: ["first_name", { name: "email", type: "string" }] }),
  profile("patient-db", "Patient table", { type: "profile", profile_type: "database", table: "patients", columns: [{ name: "email_address" }] }),
];

function Harness({ start, errors = [], seen }: { start: Body; errors?: FieldError[]; seen: (d: Body) => void }) {
  const [draft, setDraft] = useState(start);
  return <MapForm draft={draft} errors={errors} readOnly={false} onChange={(d) => { setDraft(d); seen(d); }} />;
}

describe("the map's Mappings tab", () => {
  it("picks the profiles by name, edits mappings as rows and keeps function mappings as they are", async () => {
    fakeServer({ "GET /api/components?type=profile&body=true": json(PROFILES) });
    const concat = { to: "full_name", function: "concat", inputs: [{ from: "first_name" }, " ", { from: "last_name" }] };
    const start: Body = { type: "map", name: "M", from_profile: "", to_profile: "patient-db", mappings: [concat] };
    let last: Body = start;
    render(<Harness start={start} seen={(d) => (last = d)} />);
    const source = screen.getByLabelText("Source Profile") as HTMLSelectElement;
    await waitFor(() => expect(Array.from(source.options).map((o) => o.text)).toEqual(["(choose a profile)", "Patient CSV", "Patient table"]));
    fireEvent.change(source, { target: { value: "patient-csv" } });
    expect(screen.getByText("function concat (settings under Definition)")).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Add Mapping" }));
    fireEvent.change(screen.getByLabelText("To, mapping 2"), { target: { value: "email_address" } });
    fireEvent.change(screen.getByLabelText("From, mapping 2"), { target: { value: "email" } });
    fireEvent.change(screen.getByLabelText("Default, mapping 2"), { target: { value: "none" } });
    expect(last).toEqual({ ...start, from_profile: "patient-csv",
      mappings: [concat, { to: "email_address", from: "email", default: "none" }] });
    const suggested = document.getElementById("map-source-paths");
    expect(Array.from(suggested?.querySelectorAll("option") ?? []).map((o) => o.getAttribute("value"))).toEqual(["first_name", "email"]);
    fireEvent.click(screen.getByRole("button", { name: "Remove mapping 1" }));
    expect(last.mappings).toEqual([{ to: "email_address", from: "email", default: "none" }]);
  });

  it("shows the server's errors beside the profile and the mapping at fault", async () => {
    fakeServer({ "GET /api/components?type=profile&body=true": json(PROFILES) });
    const start: Body = { type: "map", name: "M", from_profile: "gone", to_profile: "patient-db", mappings: [{ to: "x", from: "y" }] };
    render(<Harness start={start} seen={() => {}}
      errors={[{ field: "from_profile", message: "no profile gone", fix: "create it first" }, { field: "mappings.0.from", message: "no element y" }]} />);
    await waitFor(() => expect((screen.getByLabelText("Source Profile") as HTMLSelectElement).options.length).toBe(4));
    expect(screen.getByText("gone (not found)")).toBeTruthy();
    const alerts = screen.getAllByRole("alert").map((a) => a.textContent);
    expect(alerts).toContain("no profile gone — create it first");
    expect(alerts).toContain("mappings.0.from: no element y");
  });
});
