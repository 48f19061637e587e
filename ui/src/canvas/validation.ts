// Problems per shape: client-side JSON Schema validation of each shape, and the server's
// 422 field errors whose field is shapes.ID... (or layout.ID).
import { check } from "./miniSchema";
import type { FieldError } from "../api";
import { isObject } from "./convert";
import { titleOptions } from "./optionTitles";
import { parseOutlet } from "./outlets";
import type { Json, JsonObject } from "./types";

export type Problems = Record<string, string[]>;

export function validateShape(schema: JsonObject | undefined, shape: JsonObject): string[] {
  if (!schema) return [];
  return check(schema, shape, schema).map((e) => {
    const where = e.path.map(String).join(".");
    const extra = e.params?.additionalProperty;
    if (typeof extra === "string") return `${where ? `${where}.` : ""}${extra}: is not a setting of this shape`;
    return `${where || "shape"}: ${e.message}`;
  });
}

/** rjsf's extraErrors: nested by the field's path, messages under __errors. */
export interface FieldErrors {
  [key: string]: FieldErrors | string[] | undefined;
  __errors?: string[];
}

export interface ServerProblems {
  byShape: Problems;
  general: string[];
  fields: Record<string, FieldErrors>;
}

function addFieldError(tree: FieldErrors, path: string, text: string): void {
  let node = tree;
  for (const part of path.split(/[.[\]]+/).filter(Boolean)) node = (node[part] ??= {}) as FieldErrors;
  (node.__errors ??= []).push(text);
}

export function serverProblems(errors: FieldError[]): ServerProblems {
  const byShape: Problems = {};
  const general: string[] = [];
  const fields: Record<string, FieldErrors> = {};
  for (const error of errors) {
    const text = error.fix ? `${error.message} (${error.fix})` : error.message;
    const match = /^(?:shapes|layout)\.([^.[]+)(?:[.[](.*))?$/.exec(error.field ?? "");
    if (match) {
      const where = match[2] ? `${match[2].replace(/\]$/, "")}: ` : "";
      (byShape[match[1]] ??= []).push(where + text);
      if (error.field.startsWith("shapes.")) addFieldError((fields[match[1]] ??= {}), match[2] ?? "", text);
    } else general.push(error.field ? `${error.field}: ${text}` : text);
  }
  return { byShape, general, fields };
}

function resolve(root: JsonObject, node: unknown): JsonObject | null {
  if (!isObject(node)) return null;
  const ref = node.$ref;
  if (typeof ref !== "string") return node;
  const parts = ref.replace(/^#\//, "").split("/");
  let target: unknown = root;
  for (const part of parts) target = isObject(target) ? target[part] : undefined;
  return isObject(target) ? target : null;
}

const isNull = (s: unknown) => isObject(s) && s.type === "null";

/** pydantic writes `X | None` as anyOf [X, null]; a form field wants just X. */
export function simplifyNullable(node: Json): Json {
  if (Array.isArray(node)) return node.map(simplifyNullable);
  if (!isObject(node)) return node;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) out[key] = simplifyNullable(value);
  const options = out.anyOf;
  if (Array.isArray(options) && options.length === 2 && options.some(isNull)) {
    const other = options.find((o) => !isNull(o));
    delete out.anyOf;
    if (out.default === null) delete out.default;
    if (isObject(other)) return { ...other, ...out };
  }
  return out;
}

/** The schema the side panel's form shows: the outlets are the edges' business. */
export function formSchema(schema: JsonObject, outlets: string[]): JsonObject {
  const copy = titleOptions(simplifyNullable(structuredClone(schema))) as JsonObject;
  const properties = isObject(copy.properties) ? copy.properties : {};
  const required = Array.isArray(copy.required) ? copy.required : [];
  for (const spec of outlets.map(parseOutlet)) {
    if (spec.kind !== "objects") {
      delete properties[spec.key];
      copy.required = (Array.isArray(copy.required) ? copy.required : required).filter((r) => r !== spec.key);
      continue;
    }
    const list = properties[spec.key];
    const item = isObject(list) ? resolve(copy, list.items) : null;
    if (!isObject(list) || !item) continue;
    const inline: JsonObject = structuredClone(item);
    if (isObject(inline.properties)) delete inline.properties[spec.field];
    if (Array.isArray(inline.required)) inline.required = inline.required.filter((r) => r !== spec.field);
    delete inline.additionalProperties;
    list.items = inline;
  }
  delete copy.additionalProperties;
  copy.title = "Settings";
  delete copy.description;
  return copy;
}
