// The rjsf templates every form of the app uses (the Build editor's settings forms and the
// canvas's ShapeForm), so each control has an accessible name that says what it is:
// - a field's <label> holds only its title; the required "*" is beside it, aria-hidden, and the
//   control says aria-required, so get_by_label("Text", exact=True) finds it;
// - a choice between forms (anyOf/oneOf: a value source's kind, a Data Process step) is a group
//   named by the field ("First Value", "Step 1") whose drop-down is "First Value type"; the
//   chosen form's own legend is left out (the drop-down already says it);
// - items of a list are numbered by their title ("Value 1", "Route 2"), not "List-1";
// - a fixed value (a `const`, such as a step's `type`) is not shown at all.
import type { FieldTemplateProps, MultiSchemaFieldTemplateProps, RJSFSchema, TitleFieldProps } from "@rjsf/utils";
import { getTemplate, getUiOptions } from "@rjsf/utils";
import { createContext, isValidElement, useContext } from "react";

/** The "*" of a required field: seen, but not part of any accessible name. */
export function RequiredMark({ required }: { required?: boolean }) {
  return required ? <span className="required" aria-hidden="true">*</span> : null;
}

/** The $ids of the choices (anyOf/oneOf) whose chosen form is being drawn. */
const ChoiceIds = createContext<readonly string[]>([]);

/** A title for the item at `path` of a list: "Value 1" rather than rjsf's "List-1". */
export function numberedLabel(label: string, path: readonly (string | number)[]): string {
  const last = path[path.length - 1];
  if (typeof last !== "number") return label;
  const base = label.replace(new RegExp(`-${last + 1}$`), "");
  return `${base} ${last + 1}`;
}

function isFixed(schema: RJSFSchema): boolean {
  return schema.const !== undefined && !schema.oneOf && !schema.anyOf;
}

function isChoice(props: FieldTemplateProps): boolean {
  const { schema, registry } = props;
  return Boolean(schema.anyOf || schema.oneOf) && !registry.schemaUtils.isSelect(schema);
}

export function LabelledFieldTemplate(props: FieldTemplateProps) {
  const { id, label, children, errors, help, description, hidden, required, displayLabel, registry, uiSchema } = props;
  const choices = useContext(ChoiceIds);
  if (hidden || isFixed(props.schema)) return <div hidden className="hidden">{children}</div>;
  // the form a choice drew shares the choice's id and place in a list: the choice is numbered, not it
  const name = choices.includes(id) ? label : numberedLabel(label, props.fieldPathId.path);
  if (isChoice(props)) {
    // the chosen form shows the choice's own errors (at `${id}__error`), where its drop-down points
    return (
      <fieldset className={`${props.classNames ?? ""} choice`} style={props.style}>
        <legend>{name}<RequiredMark required={required} /></legend>
        {description}
        {children}
        {errors}
        {help}
      </fieldset>
    );
  }
  const Wrap = getTemplate("WrapIfAdditionalTemplate", registry, getUiOptions(uiSchema));
  return (
    <Wrap {...props}>
      {displayLabel && (
        <div className="field-label">
          <label htmlFor={id} className="control-label">{name}</label>
          <RequiredMark required={required} />
        </div>
      )}
      {displayLabel && description}
      {children}
      {errors}
      {help}
    </Wrap>
  );
}

/** A legend: the title, numbered for a list's items, the "*" outside the name; none for the
 * form a choice drew (the choice's group and drop-down name it already). */
export function TitleFieldTemplate(props: TitleFieldProps) {
  const choices = useContext(ChoiceIds);
  const owner = props.id.replace(/__title$/, "");
  if (choices.includes(owner)) return null;
  const index = /_(\d+)$/.exec(owner);
  const title = index && !/\d$/.test(props.title) ? `${props.title} ${Number(index[1]) + 1}` : props.title;
  return <legend id={props.id}>{title}<RequiredMark required={props.required} /></legend>;
}

export function ChoiceFieldTemplate(props: MultiSchemaFieldTemplateProps) {
  const choices = useContext(ChoiceIds);
  const selectorId = isValidElement<{ id?: string }>(props.selector) ? props.selector.props.id ?? "" : "";
  const owner = selectorId.replace(/__(any|one)of_select$/, "");
  return (
    <div className="choice-body">
      {props.selector && <div className="form-group">{props.selector}</div>}
      <ChoiceIds.Provider value={[...choices, owner]}>{props.optionSchemaField}</ChoiceIds.Provider>
    </div>
  );
}
