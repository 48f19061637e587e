// Names for the choices of an anyOf in a shape's schema (pydantic leaves them untitled, and
// the form would offer "First option 1, 2, ..."): a value source's kind by its one key.
import { isObject } from "./convert";
import type { Json, JsonObject } from "./types";

function words(key: string): string {
  const text = key.replace(/_/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function titleOf(option: JsonObject): string | null {
  if (typeof option.title === "string") return null;
  const required = Array.isArray(option.required) ? option.required : [];
  if (option.type === "object" && required.length === 1 && typeof required[0] === "string") return words(required[0]);
  const types = Array.isArray(option.type) ? option.type : [option.type];
  if (types.includes("string")) return "Text";
  if (option.type === "array") return "List";
  if (Array.isArray(option.anyOf)) return "One value";
  return null;
}

export function titleOptions(node: Json): Json {
  if (Array.isArray(node)) return node.map(titleOptions);
  if (!isObject(node)) return node;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) out[key] = titleOptions(value);
  if (Array.isArray(out.anyOf)) {
    out.anyOf = out.anyOf.map((option) => {
      if (!isObject(option)) return option;
      const title = titleOf(option);
      return title ? { ...option, title } : option;
    });
  }
  return out;
}
