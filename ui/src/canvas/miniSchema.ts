// A small JSON Schema checker for what the server's shape schemas use (pydantic's output:
// type, const, enum, required, properties, additionalProperties, items, anyOf/oneOf/allOf,
// $ref, bounds, pattern). Unlike ajv it generates no code, so it runs under the app's
// Content-Security-Policy (script-src 'self', no eval). Unknown keywords are ignored.
import { isObject } from "./convert";
import type { JsonObject } from "./types";

export interface SchemaError {
  path: (string | number)[];
  message: string;
  keyword: string;
  params?: Record<string, unknown>;
}

function typeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

function typeMatches(value: unknown, wanted: unknown): boolean {
  const types = Array.isArray(wanted) ? wanted : [wanted];
  const actual = typeOf(value);
  return types.some((t) => t === actual || (t === "number" && actual === "integer"));
}

export function resolveRef(root: JsonObject, ref: string): JsonObject | null {
  let node: unknown = root;
  for (const part of ref.replace(/^#\/?/, "").split("/").filter(Boolean)) {
    node = isObject(node) ? node[part.replace(/~1/g, "/").replace(/~0/g, "~")] : undefined;
  }
  return isObject(node) ? node : null;
}

type Path = (string | number)[];

function checkObject(schema: JsonObject, value: JsonObject, root: JsonObject, path: Path, out: SchemaError[]): void {
  const properties = isObject(schema.properties) ? schema.properties : {};
  for (const key of Array.isArray(schema.required) ? schema.required : []) {
    if (typeof key === "string" && !(key in value)) out.push({ path: [...path, key], keyword: "required", message: "is required", params: { missingProperty: key } });
  }
  for (const [key, item] of Object.entries(value)) {
    if (item === undefined) continue;
    if (key in properties) check(properties[key], item, root, [...path, key], out);
    else if (schema.additionalProperties === false) {
      out.push({ path, keyword: "additionalProperties", message: `${key} is not a setting here`, params: { additionalProperty: key } });
    } else if (isObject(schema.additionalProperties)) check(schema.additionalProperties, item, root, [...path, key], out);
  }
}

function checkScalar(schema: JsonObject, value: unknown, path: Path, out: SchemaError[]): void {
  const fail = (keyword: string, message: string) => out.push({ path, keyword, message });
  if (typeof value === "number") {
    if (typeof schema.minimum === "number" && value < schema.minimum) fail("minimum", `must be at least ${schema.minimum}`);
    if (typeof schema.maximum === "number" && value > schema.maximum) fail("maximum", `must be at most ${schema.maximum}`);
    if (typeof schema.exclusiveMinimum === "number" && value <= schema.exclusiveMinimum) fail("exclusiveMinimum", `must be more than ${schema.exclusiveMinimum}`);
    if (typeof schema.exclusiveMaximum === "number" && value >= schema.exclusiveMaximum) fail("exclusiveMaximum", `must be less than ${schema.exclusiveMaximum}`);
  }
  if (typeof value === "string") {
    if (typeof schema.minLength === "number" && value.length < schema.minLength) fail("minLength", `must have at least ${schema.minLength} characters`);
    if (typeof schema.maxLength === "number" && value.length > schema.maxLength) fail("maxLength", `must have at most ${schema.maxLength} characters`);
    if (typeof schema.pattern === "string") {
      try {
        if (!new RegExp(schema.pattern, "u").test(value)) fail("pattern", `must match ${schema.pattern}`);
      } catch {
        // a pattern JavaScript cannot read is the server's to check
      }
    }
  }
}

function checkArray(schema: JsonObject, value: unknown[], root: JsonObject, path: Path, out: SchemaError[]): void {
  if (typeof schema.minItems === "number" && value.length < schema.minItems) out.push({ path, keyword: "minItems", message: `needs at least ${schema.minItems} entries` });
  if (typeof schema.maxItems === "number" && value.length > schema.maxItems) out.push({ path, keyword: "maxItems", message: `takes at most ${schema.maxItems} entries` });
  if (isObject(schema.items)) value.forEach((item, i) => check(schema.items, item, root, [...path, i], out));
}

function checkChoices(schema: JsonObject, value: unknown, root: JsonObject, path: Path, out: SchemaError[]): void {
  for (const keyword of ["anyOf", "oneOf"] as const) {
    const options = schema[keyword];
    if (Array.isArray(options) && !options.some((option) => check(option, value, root, path, []).length === 0)) {
      out.push({ path, keyword, message: "is none of the accepted forms" });
    }
  }
  if (Array.isArray(schema.allOf)) schema.allOf.forEach((part) => check(part, value, root, path, out));
}

/** The errors of `value` against `schema` (empty: valid). */
export function check(schema: unknown, value: unknown, root: JsonObject, path: Path = [], out: SchemaError[] = []): SchemaError[] {
  if (schema === false) out.push({ path, keyword: "false", message: "is not allowed" });
  if (!isObject(schema)) return out;
  if (typeof schema.$ref === "string") {
    const target = resolveRef(root, schema.$ref);
    if (target) check(target, value, root, path, out);
  }
  if (schema.type !== undefined && !typeMatches(value, schema.type)) {
    out.push({ path, keyword: "type", message: `must be ${Array.isArray(schema.type) ? schema.type.join(" or ") : String(schema.type)}` });
    return out;
  }
  if ("const" in schema && JSON.stringify(schema.const) !== JSON.stringify(value)) out.push({ path, keyword: "const", message: `must be ${JSON.stringify(schema.const)}` });
  if (Array.isArray(schema.enum) && !schema.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) {
    out.push({ path, keyword: "enum", message: `must be one of ${schema.enum.map((e) => JSON.stringify(e)).join(", ")}` });
  }
  if (isObject(value as never)) checkObject(schema, value as JsonObject, root, path, out);
  if (Array.isArray(value)) checkArray(schema, value, root, path, out);
  checkScalar(schema, value, path, out);
  checkChoices(schema, value, root, path, out);
  return out;
}
