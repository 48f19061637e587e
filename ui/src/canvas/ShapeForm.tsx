// The selected shape's settings, rendered by rjsf from its JSON Schema. The outlet keys
// are left out (the edges own them); everything else is edited here.
import Form from "@rjsf/core";
import type { IChangeEvent } from "@rjsf/core";
import { pickerUiSchema } from "./ComponentPicker";
import { miniValidator } from "./miniValidator";
import { useMemo } from "react";
import { isObject } from "./convert";
import { outletKeys } from "./outlets";
import { sameJson } from "./sameJson";
import type { JsonObject, ShapeInfo } from "./types";
import { formSchema, type FieldErrors } from "./validation";
import type { ErrorSchema } from "@rjsf/utils";
import { FORM_TEMPLATES, FORM_WIDGETS } from "../forms/registry";

export interface ShapeFormProps {
  shapeId: string;
  info: ShapeInfo;
  shape: JsonObject;
  onChange: (shape: JsonObject) => void;
  readOnly: boolean;
  fieldErrors?: FieldErrors;
}

const LONG_TEXT = ["text", "message", "code"];

/** Hide the type, no submit button, and multi-line boxes for message texts and scripts. */
function uiSchemaFor(schema: JsonObject): Record<string, unknown> {
  const ui: Record<string, unknown> = { type: { "ui:widget": "hidden" }, "ui:submitButtonOptions": { norender: true } };
  const properties = isObject(schema.properties) ? schema.properties : {};
  for (const key of LONG_TEXT) {
    const field = properties[key];
    if (isObject(field) && field.type === "string") ui[key] = { "ui:widget": "textarea", "ui:options": { rows: 5 } };
  }
  return ui;
}

/** The top-level defaults of a schema (shown in the form, not written into the shape). */
function topDefaults(schema: JsonObject): JsonObject {
  const properties = isObject(schema.properties) ? schema.properties : {};
  const found: JsonObject = {};
  for (const [key, field] of Object.entries(properties)) {
    if (isObject(field) && field.default !== undefined && field.default !== null) found[key] = field.default;
  }
  return found;
}

/** Form data: the shape minus its outlet keys; changes put the outlet keys back. */
export function ShapeForm({ shapeId, info, shape, onChange, readOnly, fieldErrors }: ShapeFormProps) {
  const schema = useMemo(() => formSchema(info.schema, info.outlets), [info]);
  const uiSchema = useMemo(() => ({ ...uiSchemaFor(schema), ...pickerUiSchema(schema) }), [schema]);
  const keys = useMemo(() => outletKeys({ [info.type]: info.outlets }, info.type), [info]);
  const defaults = useMemo(() => topDefaults(schema), [schema]);
  const formData = useMemo(() => {
    const data: JsonObject = { ...defaults, ...shape };
    keys.forEach((k) => delete data[k]);
    return data;
  }, [shape, keys, defaults]);
  const change = (event: IChangeEvent) => {
    const next: JsonObject = isObject(event.formData) ? { ...event.formData } : {};
    for (const [k, v] of Object.entries(next)) {
      // a default shown but not chosen stays out of the shape (the engine applies it anyway)
      if (v === undefined || (!(k in shape) && k in defaults && sameJson(v, defaults[k]))) delete next[k];
    }
    for (const k of keys) if (k in shape) next[k] = shape[k];
    next.type = shape.type ?? info.type;
    if (!sameJson(next, shape)) onChange(next);
  };
  return (
    <Form
      key={shapeId}
      idPrefix={`shape-${shapeId}`}
      schema={schema}
      uiSchema={uiSchema}
      formData={formData}
      validator={miniValidator}
      widgets={FORM_WIDGETS}
      templates={FORM_TEMPLATES}
      onChange={change}
      noHtml5Validate
      readonly={readOnly}
      extraErrors={fieldErrors as ErrorSchema | undefined}
      showErrorList={false}
      experimental_defaultFormStateBehavior={{ emptyObjectFields: "skipDefaults", arrayMinItems: { populate: "never" } }}
    />
  );
}
