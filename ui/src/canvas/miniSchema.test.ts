import { describe, expect, it } from "vitest";
import { check } from "./miniSchema";
import { miniValidator } from "./miniValidator";
import type { JsonObject } from "./types";

// The shape of pydantic's output for a Decision (value sources, Literal, X | None, $defs).
const source: JsonObject = {
  anyOf: [
    { type: ["string", "number", "boolean"] },
    { type: "object", additionalProperties: false, required: ["static"], properties: { static: { type: ["string", "number"] } } },
    { type: "object", additionalProperties: false, required: ["profile_element"], properties: { profile_element: { type: ["string", "number"] } } },
  ],
};
const decision: JsonObject = {
  type: "object", additionalProperties: false, required: ["type", "first"],
  properties: {
    type: { const: "decision", type: "string" },
    label: { anyOf: [{ type: "string" }, { type: "null" }], default: null },
    first: source, second: source,
    comparison: { enum: ["equals", "regex"], type: "string" },
    retries: { type: "integer", minimum: 0, maximum: 5 },
    cases: { type: "array", items: { $ref: "#/$defs/Case" }, minItems: 1 },
    true: { anyOf: [{ type: "string" }, { type: "null" }] },
  },
  $defs: { Case: { type: "object", additionalProperties: false, properties: { value: { type: "string" } } } },
};

const messages = (value: unknown) => check(decision, value, decision).map((e) => `${e.path.join(".")} ${e.message}`);

describe("the schema checker", () => {
  it("accepts what pydantic would", () => {
    expect(messages({ type: "decision", label: null, first: { profile_element: "status" }, second: "patient", comparison: "equals", true: "x", cases: [{ value: "a" }], retries: 5 })).toEqual([]);
  });

  it("names what is wrong", () => {
    expect(messages({ type: "decision" })).toEqual(["first is required"]);
    expect(messages({ type: "stop", first: 1 })).toEqual(['type must be "decision"']);
    expect(messages({ type: "decision", first: { profile_elemnt: "x" } })).toEqual(["first is none of the accepted forms"]);
    expect(messages({ type: "decision", first: "a", comparison: "like" })).toEqual(['comparison must be one of "equals", "regex"']);
    expect(messages({ type: "decision", first: "a", retries: 6 })).toEqual(["retries must be at most 5"]);
    expect(messages({ type: "decision", first: "a", retries: 1.5 })).toEqual(["retries must be integer"]);
    expect(messages({ type: "decision", first: "a", cases: [] })).toEqual(["cases needs at least 1 entries"]);
    expect(messages({ type: "decision", first: "a", cases: [{ value: 3 }] })).toEqual(["cases.0.value must be string"]);
    expect(messages({ type: "decision", first: "a", colour: "red" })).toEqual([" colour is not a setting here"]);
  });

  it("serves rjsf as its validator", () => {
    expect(miniValidator.isValid(source as never, { static: "x" }, decision as never)).toBe(true);
    expect(miniValidator.isValid(source as never, { other: "x" }, decision as never)).toBe(false);
    const { errors, errorSchema } = miniValidator.validateFormData({ type: "decision" }, decision as never);
    expect(errors.map((e) => e.property)).toEqual([".first"]);
    expect(errorSchema).toEqual({ first: { __errors: ["is required"] } });
  });
});
