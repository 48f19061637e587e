// The rjsf templates of the settings forms: fields in sections by their `group`, fields
// whose `show_if` does not hold left out, and field errors as alerts the input points at.
import type { FieldErrorProps, ObjectFieldTemplateProps } from "@rjsf/utils";
import { useState, type ReactNode } from "react";
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
  const advanced = (name: string) => schema.properties?.[name]?.advanced === true;
  return (
    <div className="settings-form" id={props.fieldPathId.$id}>
      {[...groups.entries()].map(([group, properties]) => {
        const content = properties.map((property) => property.content);
        if (!group) return <div key="" className="group">{content}</div>;
        if (properties.every((property) => advanced(property.name))) {
          // a section of fields the schema marks `advanced`: closed until opened
          const errors = props.errorSchema as Record<string, unknown> | undefined;
          const failing = properties.some((property) => errors?.[property.name] !== undefined);
          return <AdvancedSection key={group} group={group} failing={failing}>{content}</AdvancedSection>;
        }
        return <fieldset key={group} className="group"><legend>{group}</legend>{content}</fieldset>;
      })}
    </div>
  );
}

/** A folded section whose fields are not in the page until it is opened, so a closed section's
 * fields never share a label or a button name with the fields in view (Inbound host beside Host). */
function AdvancedSection({ group, failing, children }: { group: string; failing: boolean; children: ReactNode }) {
  const [opened, setOpen] = useState(false);
  const open = opened || failing; // a field with an error is never hidden
  return (
    <details className="group advanced" open={open}
      onToggle={(event) => setOpen((event.currentTarget as HTMLDetailsElement).open)}>
      <summary>{group}</summary>
      {open && <fieldset className="group"><legend>{group}</legend>{children}</fieldset>}
    </details>
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
