// A connector's settings form, rendered with @rjsf from the connector's JSON Schema, so a
// new connector's fields appear with no UI code: labels from `title`, help from
// `description`, sections by `group`, `show_if`, enums as drop-downs, secrets as Click to set.
import Form from "@rjsf/core";
import type { IChangeEvent } from "@rjsf/core";
import type { RJSFSchema, UiSchema } from "@rjsf/utils";
import validator from "@rjsf/validator-ajv8";
import { useMemo } from "react";
import type { FieldError } from "../api";
import type { JsonSchema } from "../types";
import { errorSchema } from "./errors";
import { formSchema, isSecret } from "./schema";
import { FORM_TEMPLATES, FORM_WIDGETS } from "./registry";
import { SecretWidget, type SecretContext } from "./SecretWidget";
import { GroupedObjectTemplate } from "./templates";

export interface SettingsFormProps {
  schema: JsonSchema;
  data: Record<string, unknown>;
  onChange: (data: Record<string, unknown>) => void;
  errors: FieldError[]; // the server's, with fields like settings.port
  secrets: SecretContext;
  readOnly: boolean;
}

const WIDGETS = { ...FORM_WIDGETS, secret: SecretWidget };
const TEMPLATES = { ...FORM_TEMPLATES, ObjectFieldTemplate: GroupedObjectTemplate };

export function SettingsForm(props: SettingsFormProps) {
  const schema = useMemo(() => formSchema(props.schema), [props.schema]);
  const uiSchema = useMemo(() => uiFor(schema), [schema]);
  const extraErrors = useMemo(() => errorSchema(props.errors, "settings"), [props.errors]);
  return (
    <Form
      schema={schema as RJSFSchema}
      uiSchema={uiSchema}
      formData={props.data}
      validator={validator}
      widgets={WIDGETS}
      templates={TEMPLATES}
      formContext={props.secrets}
      extraErrors={extraErrors}
      showErrorList={false}
      noHtml5Validate
      readonly={props.readOnly}
      onChange={(event: IChangeEvent) => props.onChange((event.formData ?? {}) as Record<string, unknown>)}
      onSubmit={() => undefined}
    />
  );
}

function uiFor(schema: JsonSchema): UiSchema {
  const ui: UiSchema = { "ui:submitButtonOptions": { norender: true } };
  for (const [name, child] of Object.entries(schema.properties ?? {})) {
    if (isSecret(child)) ui[name] = { "ui:widget": "secret", "ui:options": { label: false } };
  }
  return ui;
}
