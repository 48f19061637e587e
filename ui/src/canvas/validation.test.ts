import { describe, expect, it } from "vitest";
import type { Json } from "./types";
import { SHAPES } from "./testSupport";
import { formSchema, serverProblems, simplifyNullable, validateShape } from "./validation";

describe("shape schemas", () => {
  it("leave the outlets out of the form, also inside route cases", () => {
    const route = SHAPES.find((s) => s.type === "route")!;
    const schema = formSchema(route.schema, route.outlets) as { properties: Record<string, { items?: { properties: object } }> };
    expect(Object.keys(schema.properties).sort()).toEqual(["by", "cases", "label", "type"]);
    expect(Object.keys(schema.properties.cases.items?.properties ?? {})).toEqual(["value"]);
    const decision = SHAPES.find((s) => s.type === "decision")!;
    expect(Object.keys((formSchema(decision.schema, decision.outlets) as { properties: object }).properties)).not.toContain("true");
  });

  it("turn pydantic's X | None into X", () => {
    expect(simplifyNullable({ anyOf: [{ type: "string" }, { type: "null" }], default: null, title: "Label" })).toEqual({ type: "string", title: "Label" });
  });

  it("name the choices of a value source by their kind", async () => {
    const { titleOptions } = await import("./optionTitles");
    const source: Json = { anyOf: [{ type: ["string", "number"] }, { type: "object", required: ["profile_element"], properties: {} }, { type: "array" }] };
    expect((titleOptions(source) as { anyOf: { title: string }[] }).anyOf.map((o) => o.title)).toEqual(["Text", "Profile element", "List"]);
  });

  it("validate a shape against its schema", () => {
    const message = SHAPES.find((s) => s.type === "message")!;
    expect(validateShape(message.schema, { type: "message", text: "x", next: "a" })).toEqual([]);
    expect(validateShape(message.schema, { type: "message" }).join()).toContain("text");
    expect(validateShape(message.schema, { type: "message", text: "x", colour: 1 }).join()).toContain("colour");
  });

  it("put the server's field errors on their shapes", () => {
    const found = serverProblems([
      { field: "shapes.send.operation", message: "no operation x", fix: "create it" },
      { field: "shapes.split.steps[0].pattern", message: "bad regex" },
      { field: "layout.ghost", message: "names no shape" },
      { field: "start", message: "names no shape" },
    ]);
    expect(found.byShape).toEqual({
      send: ["operation: no operation x (create it)"],
      split: ["steps[0].pattern: bad regex"],
      ghost: ["names no shape"],
    });
    expect(found.general).toEqual(["start: names no shape"]);
    expect(found.fields).toEqual({
      send: { operation: { __errors: ["no operation x (create it)"] } },
      split: { steps: { 0: { pattern: { __errors: ["bad regex"] } } } },
    });
  });
});
