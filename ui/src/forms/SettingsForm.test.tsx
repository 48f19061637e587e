import { fireEvent, render, screen } from "@testing-library/react";
import { useState } from "react";
import { describe, expect, it } from "vitest";
import type { FieldError } from "../api";
import { mailConnectionSchema } from "../test/mailSchema";
import { SettingsForm } from "./SettingsForm";

function Harness({ errors = [], readOnly = false }: { errors?: FieldError[]; readOnly?: boolean }) {
  const [data, setData] = useState<Record<string, unknown>>({ host: "smtp.example.com" });
  const [pending, setPendingState] = useState<Record<string, string>>({});
  return (
    <SettingsForm schema={mailConnectionSchema} data={data} onChange={setData} errors={errors} readOnly={readOnly}
      secrets={{ status: { password: "not set" }, pending, readOnly,
        setPending: (field, value) => setPendingState((p) => ({ ...p, [field]: value })) }} />
  );
}

describe("SettingsForm", () => {
  it("labels fields by title, shows help text and groups", () => {
    render(<Harness />);
    expect((screen.getByLabelText("Host") as HTMLInputElement).value).toBe("smtp.example.com");
    expect(screen.getByLabelText("Port")).toBeTruthy();
    expect(screen.getByText("The mail server's host name.")).toBeTruthy();
    expect((screen.getByLabelText("Use TLS?") as HTMLInputElement).type).toBe("checkbox");
    expect(screen.getByRole("group", { name: "Server" })).toBeTruthy();
  });

  it("hides show_if fields until their condition holds", () => {
    render(<Harness />);
    expect(screen.queryByLabelText("User Name")).toBeNull();
    expect(screen.queryByRole("button", { name: "Click to set" })).toBeNull();
    fireEvent.click(screen.getByLabelText("User/Password Authorization?"));
    expect(screen.getByLabelText("User Name")).toBeTruthy();
    expect(screen.getByRole("button", { name: "Click to set" })).toBeTruthy();
    const select = screen.getByLabelText("Login mechanism") as HTMLSelectElement;
    expect([...select.options].map((o) => o.text)).toEqual(expect.arrayContaining(["Auto", "Plain"]));
  });

  it("shows a server error at its field, with the fix, pointed at by the input", () => {
    const errors = [{ field: "settings.port", message: "Port must be at most 65535", fix: "use a port from 1 to 65535" }];
    render(<Harness errors={errors} />);
    const alert = screen.getByRole("alert");
    expect(alert.textContent).toContain("Port must be at most 65535 — use a port from 1 to 65535");
    const port = screen.getByLabelText("Port");
    expect(port.getAttribute("aria-describedby")).toContain(alert.id);
  });

  it("is read-only for viewers: inputs read-only, no Click to set", () => {
    render(<Harness readOnly />);
    expect((screen.getByLabelText("Host") as HTMLInputElement).readOnly).toBe(true);
    expect((screen.getByLabelText("Use TLS?") as HTMLInputElement).disabled).toBe(true);
  });

  it("keeps the sections the schema marks advanced closed until opened", () => {
    const schema = { type: "object", properties: {
      host: { type: "string", title: "Host", group: "Server" },
      inbound_host: { type: "string", title: "Inbound host", group: "Reading mail", advanced: true },
    } };
    render(<SettingsForm schema={schema} data={{}} onChange={() => undefined} errors={[]} readOnly={false}
      secrets={{ status: {}, pending: {}, setPending: () => undefined, readOnly: false }} />);
    const summary = screen.getByText("Reading mail", { selector: "summary" });
    const details = summary.closest("details")!;
    expect(details.open).toBe(false);
    // closed: its fields are not in the page, so "Host" names one field only
    expect(screen.queryByLabelText("Inbound host")).toBeNull();
    expect(screen.getAllByLabelText(/host/i)).toHaveLength(1);
    expect(screen.getByLabelText("Host").closest("details")).toBeNull();
    details.open = true;
    fireEvent(details, new Event("toggle"));
    expect(details.contains(screen.getByLabelText("Inbound host"))).toBe(true);
  });
});
