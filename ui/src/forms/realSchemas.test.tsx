// The forms as the server's schemas describe them today (test/realSchemas.json: what GET
// /api/connectors and GET /api/shapes answer, written by `make ui-schemas`; a pytest fails
// when it is stale): every connector field renders labelled by its title, and every shape's
// side-panel form names each control in words: no control without a name, no "*" in a name,
// no YAML key, class name or rjsf placeholder ("List-1") as a name, choices shown by title.
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { ShapeForm } from "../canvas/ShapeForm";
import type { JsonObject, ShapeInfo } from "../canvas/types";
import snapshot from "../test/realSchemas.json";
import type { JsonSchema } from "../types";
import { isSecret, showIfHolds } from "./schema";
import { SettingsForm } from "./SettingsForm";

interface Connector { name: string; title: string; connection_schema: JsonSchema; operation_schema: JsonSchema }

const connectors = snapshot.connectors as unknown as Connector[];
const shapes = snapshot.shapes as unknown as ShapeInfo[];

afterEach(cleanup);

describe("real connector schemas", () => {
  for (const connector of connectors) {
    for (const [part, schema] of [["connection", connector.connection_schema], ["operation", connector.operation_schema]] as const) {
      it(`renders ${connector.name}'s ${part} with a labelled control for every shown field`, () => {
        render(<SettingsForm schema={schema} data={{}} onChange={() => undefined} errors={[]} readOnly={false}
          secrets={{ status: {}, pending: {}, setPending: () => undefined, readOnly: false }} />);
        const defaults = Object.fromEntries(Object.entries(schema.properties ?? {}).map(([k, v]) => [k, v.default]));
        for (const [field, child] of Object.entries(schema.properties ?? {})) {
          if (!showIfHolds(child.show_if, defaults) || isSecret(child) || child.advanced === true) continue;
          const type = child.type ?? (child.anyOf as JsonSchema[] | undefined)?.[0]?.type;
          if (type === "object" || type === "array") continue;
          const title = String(child.title ?? field);
          expect(screen.getAllByLabelText(title, { exact: true }).length, `${connector.name}.${field}`).toBeGreaterThan(0);
        }
        expectNamedControls(`${connector.name} ${part}`, Object.keys(schema.properties ?? {}));
      });
    }
  }
});

/** A shape of each type with its lists and choices filled, so every nested form renders. */
const SAMPLES: Record<string, JsonObject> = {
  message: { type: "message", text: "Dear {1}", parameters: [{ profile_element: "name" }, "x"] },
  set_properties: { type: "set_properties", properties: [{ property: "mail.to_address", value: [{ profile_element: "email" }] }] },
  data_process: { type: "data_process", steps: [{ type: "split", by: "line" }, { type: "search_replace", pattern: "a", replacement: "b" },
    { type: "character_encode", encoding: "utf-8" }, { type: "script", code: "pass" }] },
  decision: { type: "decision", first: { profile_element: "status" }, second: "patient" },
  route: { type: "route", by: { document_property: "mail.subject" }, cases: [{ comparison: "equals", value: "a" }] },
  notify: { type: "notify", message: "{1}", parameters: [{ execution_property: "process_name" }] },
  exception: { type: "exception", message: "bad", parameters: [{ current_date: "yyyy" }] },
};

/** Each element of `role` in the page with its accessible name (as testing-library computes it). */
function named(role: string): Map<Element, string> {
  const names = new Map<Element, string>();
  screen.queryAllByRole(role, { name: (name, element) => { if (!element.closest("[hidden]")) names.set(element, name); return true; } });
  return names;
}

/** Every form control in the page has a name in words. */
function expectNamedControls(what: string, keys: string[]) {
  const controls = new Map([...named("textbox"), ...named("combobox"), ...named("spinbutton"), ...named("checkbox")]);
  const all = [...document.querySelectorAll("input:not([type=hidden]), select, textarea")].filter((e) => !e.closest("[hidden]"));
  expect(all.length, what).toBeGreaterThan(0);
  expect(all.filter((element) => !controls.has(element)).map((e) => e.id), `${what}: controls without a role`).toEqual([]);
  for (const [control, name] of controls) {
    const where = `${what}: ${control.id} named "${name}"`;
    expect(name.trim(), where).not.toBe("");
    expect(name, where).not.toMatch(/\*|-\d+\b|Step[A-Z]|[a-z]+_[a-z]+/);
    expect(keys.filter((key) => key.includes("_") || key === key.toLowerCase()).includes(name), where).toBe(false);
  }
  for (const [, name] of named("group")) {
    expect(name, `${what}: group "${name}"`).not.toMatch(/\*|-\d+\b|[A-Za-z]+Step\b|Entry\b|[a-z]+_[a-z]+/);
  }
}

describe("real shape schemas: the side panel's form", () => {
  for (const info of shapes) {
    it(`names every control of a ${info.type} shape in words`, () => {
      const shape = SAMPLES[info.type] ?? { type: info.type };
      render(<ShapeForm shapeId="s1" info={info} shape={shape} onChange={() => undefined} readOnly={false} />);
      expectNamedControls(info.type, Object.keys((info.schema.properties ?? {}) as object));
      for (const select of [...document.querySelectorAll("select")]) {
        for (const option of [...select.options].filter((o) => o.text)) {
          expect(option.text, `${info.type}: an option of ${select.id}`).not.toMatch(/^[a-z]+(_[a-z]+)+$|Step$/);
        }
      }
    });
  }

  it("keeps the stored value of a choice while showing its title, and reads back the option", () => {
    const decision = shapes.find((s) => s.type === "decision")!;
    const changes: JsonObject[] = [];
    render(<ShapeForm shapeId="d" info={decision} shape={SAMPLES.decision} onChange={(s) => changes.push(s)} readOnly={false} />);
    const comparison = screen.getByLabelText("Comparison", { exact: true }) as HTMLSelectElement;
    expect(comparison.value).toBe("equals");
    expect(comparison.selectedOptions[0].text).toBe("Equal To");
    fireEvent.change(comparison, { target: { value: "not_equals" } });
    expect(changes.at(-1)?.comparison).toBe("not_equals");
    const kind = screen.getByRole("combobox", { name: "First Value type" }) as HTMLSelectElement;
    expect(kind.value).toBe("Profile Element");
    expect((screen.getByRole("group", { name: "First Value" })).contains(screen.getByLabelText("Element", { exact: true }))).toBe(true);
    fireEvent.change(kind, { target: { value: "Document Property" } });
    expect(screen.getByRole("combobox", { name: "First Value type" })).toHaveProperty("value", "Document Property");
  });

  it("marks a required field with a * outside its name, and the control as required", () => {
    const message = shapes.find((s) => s.type === "message")!;
    render(<ShapeForm shapeId="m" info={message} shape={SAMPLES.message} onChange={() => undefined} readOnly={false} />);
    const text = screen.getByLabelText("Message", { exact: true }) as HTMLTextAreaElement;
    expect(text.required, "required: assistive technology reads it as aria-required").toBe(true);
    const star = text.closest(".form-group, .rjsf-field")?.querySelector(".required");
    expect(star?.textContent).toBe("*");
    expect(star?.getAttribute("aria-hidden")).toBe("true");
    expect(screen.getByRole("group", { name: "Value 2" })).toBeTruthy();
    expect(screen.getByRole("combobox", { name: "Value 2 type" })).toHaveProperty("value", "Text");
  });

  it("shows the server's error about a whole value source under its group, where its drop-down points", () => {
    const decision = shapes.find((s) => s.type === "decision")!;
    render(<ShapeForm shapeId="d" info={decision} shape={SAMPLES.decision} onChange={() => undefined} readOnly={false}
      fieldErrors={{ first: { __errors: ["unknown execution property 'x' (use one of: execution_id, ...)"] } }} />);
    const kind = screen.getByRole("combobox", { name: "First Value type" });
    const alert = screen.getByRole("alert");
    expect(alert.textContent).toContain("unknown execution property");
    expect(kind.getAttribute("aria-describedby")?.split(" ")).toContain(alert.id);
    expect(screen.getByRole("group", { name: "First Value" }).contains(alert)).toBe(true);
  });
});
