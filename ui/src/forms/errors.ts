// Places the server's field errors (`settings.port`) at their field in the form.
import type { ErrorSchema } from "@rjsf/utils";
import type { FieldError } from "../api";

/** The errors under `prefix` (e.g. "settings") as rjsf's error schema, "message — fix". */
export function errorSchema(errors: FieldError[], prefix: string): ErrorSchema {
  const root: Record<string, unknown> = {};
  for (const error of errors) {
    if (!error.field.startsWith(`${prefix}.`)) continue;
    const path = error.field.slice(prefix.length + 1).split(".");
    let node = root;
    for (const part of path) {
      node[part] = (node[part] as Record<string, unknown> | undefined) ?? {};
      node = node[part] as Record<string, unknown>;
    }
    const list = ((node.__errors as string[] | undefined) ?? []);
    list.push(errorLine(error));
    node.__errors = list;
  }
  return root as ErrorSchema;
}

export function errorLine(error: FieldError): string {
  return error.fix ? `${error.message} — ${error.fix}` : error.message;
}

/** The errors of exactly `field` (e.g. "name"). */
export function errorsOf(errors: FieldError[], field: string): string[] {
  return errors.filter((error) => error.field === field).map(errorLine);
}
