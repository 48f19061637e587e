// The rjsf templates of the settings forms: fields in sections by their `group`, fields
// whose `show_if` does not hold left out, and field errors as alerts the input points at.
import type { FieldErrorProps, ObjectFieldTemplateProps } from "@rjsf/utils";
import { errorId } from "@rjsf/utils";
import type { JsonSchema } from "../types";
import { showIfHolds } from "./schema";

export function GroupedObjectTemplate(props: ObjectFieldTemplateProps) {
  const schema = props.schema as JsonSchema;
  const data = (props.formData ?? {}) as Record<string, unknown>;
  const groups = new Map<string, typeof props.properties>();
  for (const property of props.properties) {
    const child = schema.properties?.[property.name];
    if (property.hidden || !showIfHolds(child?.show_if, data)) continue;
    const group = typeof child?.group === "string" ? child.group : "";
    groups.set(group, [...(groups.get(group) ?? []), property]);
  }
  return (
    <div className="settings-form" id={props.fieldPathId.$id}>
      {[...groups.entries()].map(([group, properties]) =>
        group ? (
          <fieldset key={group} className="group">
            <legend>{group}</legend>
            {properties.map((property) => property.content)}
          </fieldset>
        ) : (
          <div key="" className="group">{properties.map((property) => property.content)}</div>
        ),
      )}
    </div>
  );
}

export function AlertErrorTemplate(props: FieldErrorProps) {
  const errors = (props.errors ?? []).filter(Boolean);
  if (errors.length === 0) return null;
  return (
    <div id={errorId(props.fieldPathId)} role="alert" className="field-error">
      {errors.map((error, index) => <div key={index}>{error}</div>)}
    </div>
  );
}
