// rjsf's validator interface over miniSchema (no ajv: no code generation, CSP-safe).
import { toErrorSchema, type RJSFSchema, type RJSFValidationError, type ValidationData, type ValidatorType } from "@rjsf/utils";
import { check, type SchemaError } from "./miniSchema";
import type { JsonObject } from "./types";

function property(path: (string | number)[]): string {
  return path.map((p) => `.${p}`).join("");
}

export function toRjsfErrors(errors: SchemaError[]): RJSFValidationError[] {
  return errors.map((e) => ({
    name: e.keyword,
    property: property(e.path),
    message: e.message,
    params: e.params ?? {},
    stack: `${property(e.path) || "."} ${e.message}`.trim(),
  }));
}

export const miniValidator: ValidatorType = {
  validateFormData(formData: unknown, schema: RJSFSchema): ValidationData<unknown> {
    const errors = toRjsfErrors(check(schema, formData, schema as JsonObject));
    return { errors, errorSchema: toErrorSchema(errors) };
  },
  isValid(schema: RJSFSchema, formData: unknown, rootSchema: RJSFSchema): boolean {
    return check(schema, formData, rootSchema as JsonObject).length === 0;
  },
  rawValidation<Result = unknown>(schema: RJSFSchema, formData?: unknown) {
    return { errors: check(schema, formData, schema as JsonObject) as unknown as Result[] };
  },
};
