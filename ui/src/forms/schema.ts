// Turns a connector's settings JSON Schema (as the server writes it) into what the form
// renders: nullable fields as their plain type, enums as drop-downs with option titles,
// local $refs inlined, no "required" markers (the server validates and says what is wrong).
import type { JsonSchema } from "../types";

type Defs = Record<string, JsonSchema>;

export function formSchema(schema: JsonSchema): JsonSchema {
  const defs = ((schema.$defs ?? schema.definitions ?? {}) as Defs);
  const result = normalize(schema, defs, 0);
  delete result.$defs;
  delete result.definitions;
  delete result.title;
  delete result.description;
  return result;
}

function normalize(schema: JsonSchema, defs: Defs, depth: number): JsonSchema {
  if (depth > 20) return schema;
  let node: JsonSchema = { ...schema };
  if (typeof node.$ref === "string") node = inlineRef(node, defs);
  node = dropNull(node);
  delete node.required;
  if (Array.isArray(node.enum) && !node.oneOf) node = withOptionTitles(node);
  if (node.properties) {
    const properties: Record<string, JsonSchema> = {};
    for (const [name, child] of Object.entries(node.properties)) {
      properties[name] = normalize(child, defs, depth + 1);
    }
    node.properties = properties;
  }
  if (node.items && typeof node.items === "object") {
    node.items = normalize(node.items as JsonSchema, defs, depth + 1);
  }
  return node;
}

function inlineRef(node: JsonSchema, defs: Defs): JsonSchema {
  const name = String(node.$ref).split("/").pop() ?? "";
  const target = defs[name];
  const rest = { ...node };
  delete rest.$ref;
  return target ? { ...target, ...rest } : rest;
}

/** `anyOf: [X, {type: null}]` (a field that may be blank) becomes X with the field's own keys. */
function dropNull(node: JsonSchema): JsonSchema {
  const options = node.anyOf as JsonSchema[] | undefined;
  if (!Array.isArray(options)) return node;
  const real = options.filter((option) => option.type !== "null");
  if (real.length !== 1) return node;
  const rest = { ...node };
  delete rest.anyOf;
  if (rest.default === null) delete rest.default;
  return { ...real[0], ...rest };
}

/** An enum's options as `oneOf` consts titled by `enumNames`/`x-enum-titles`, else the value
 * with a capital first letter (send → Send). */
function withOptionTitles(node: JsonSchema): JsonSchema {
  const values = node.enum as unknown[];
  const titles = (node.enumNames ?? node["x-enumNames"] ?? node["x-enum-titles"] ?? node.enum_titles) as
    | string[]
    | Record<string, string>
    | undefined;
  const oneOf = values.map((value, index) => ({ const: value, title: optionTitle(value, index, titles) }));
  const rest: JsonSchema = { ...node, oneOf };
  delete rest.enum;
  delete rest.enumNames;
  return rest;
}

function optionTitle(value: unknown, index: number, titles: string[] | Record<string, string> | undefined): string {
  if (Array.isArray(titles) && titles[index]) return titles[index];
  if (titles && !Array.isArray(titles) && titles[String(value)]) return titles[String(value)];
  const text = String(value);
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Whether a field is a secret (never shown; set through Click to set). */
export function isSecret(schema: JsonSchema | undefined): boolean {
  return Boolean(schema && (schema.secret === true || schema.writeOnly === true));
}

/** The names of the secret fields of an object schema. */
export function secretFields(schema: JsonSchema): string[] {
  return Object.entries(schema.properties ?? {})
    .filter(([, child]) => isSecret(child))
    .map(([name]) => name);
}

/** Whether a `show_if` condition holds: every named field has the value, or one of the values listed. */
export function showIfHolds(condition: unknown, data: Record<string, unknown>): boolean {
  if (!condition || typeof condition !== "object") return true;
  return Object.entries(condition as Record<string, unknown>).every(([field, wanted]) => {
    const value = data[field];
    return Array.isArray(wanted) ? wanted.includes(value) : value === wanted;
  });
}
