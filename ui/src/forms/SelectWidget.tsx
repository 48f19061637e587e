// A drop-down whose options show titles ("No Data", "Equal To") while the form keeps the
// stored value ("no_data", "equals"), and whose value reads back as the option: the <option>'s
// value is the stored value itself (not rjsf's index), or, for the drop-down choosing between
// forms (a value source's kind), the form's title. That drop-down has no <label> of its own,
// so it is named after its field: "First Value type", "Value 2 type".
import type { EnumOptionsType, RJSFSchema, WidgetProps } from "@rjsf/utils";
import { ariaDescribedByIds } from "@rjsf/utils";
import { getDefaultRegistry } from "@rjsf/core";
import type { ChangeEvent, FocusEvent } from "react";

const CHOICE = /__(any|one)of_select$/;

/** The accessible name of a choice's drop-down: its field's title (numbered in a list) and "type". */
export function choiceName(id: string, label: string): string {
  const index = /_(\d+)__(?:any|one)of_select$/.exec(id);
  const base = index && !/\d$/.test(label) ? `${label} ${Number(index[1]) + 1}` : label;
  return `${base} type`;
}

/** An option's label: the schema's names for an enum's values (x-enumNames), else rjsf's label. */
function labels(schema: RJSFSchema, choices: EnumOptionsType[]): string[] {
  const names = (schema["x-enumNames"] ?? schema.enumNames) as unknown;
  return choices.map((choice, index) => {
    if (Array.isArray(schema.enum) && Array.isArray(names) && typeof names[index] === "string") return names[index];
    return String(choice.label);
  });
}

/** The value attribute of each option: the stored value as text, the title for a choice of
 * forms; indexes only when those would not tell the options apart. */
function keys(choices: EnumOptionsType[], shown: string[], choice: boolean): string[] {
  const wanted = choices.map((c, i) => (choice ? shown[i] : typeof c.value === "string" ? c.value : JSON.stringify(c.value)));
  return new Set(wanted).size === wanted.length ? wanted : choices.map((_, i) => String(i));
}

export function SelectWidget(props: WidgetProps) {
  const { id, options, value, required, disabled, readonly, schema, onChange, onBlur, onFocus } = props;
  if (props.multiple) {
    const Default = getDefaultRegistry().widgets.SelectWidget;
    return <Default {...props} />;
  }
  const choices = (options.enumOptions ?? []) as EnumOptionsType[];
  const choice = CHOICE.test(id);
  const shown = labels(schema, choices);
  const optionKeys = keys(choices, shown, choice);
  // a value left out shows the default the engine applies
  const current = value === undefined || value === "" ? schema.default : value;
  const selected = choices.findIndex((c) => JSON.stringify(c.value) === JSON.stringify(current));
  const decode = (key: string) => {
    const index = optionKeys.indexOf(key);
    return index >= 0 ? choices[index].value : options.emptyValue;
  };
  const placeholder = schema.default === undefined;
  return (
    <select id={id} name={props.htmlName || id} className="form-control" value={selected >= 0 ? optionKeys[selected] : ""}
      required={required} aria-required={required || undefined} disabled={disabled || readonly}
      aria-label={choice ? choiceName(id, String(props.label ?? "")) : undefined} aria-describedby={choice ? `${id.replace(CHOICE, "")}__error ${ariaDescribedByIds(id)}` : ariaDescribedByIds(id)}
      onChange={(e: ChangeEvent<HTMLSelectElement>) => onChange(decode(e.target.value))}
      onBlur={(e: FocusEvent<HTMLSelectElement>) => onBlur(id, decode(e.target.value))}
      onFocus={(e: FocusEvent<HTMLSelectElement>) => onFocus(id, decode(e.target.value))}>
      {(placeholder || selected < 0) && <option value="">{props.placeholder ?? ""}</option>}
      {choices.map((c, i) => (
        <option key={optionKeys[i]} value={optionKeys[i]} disabled={options.enumDisabled?.includes(c.value)}>{shown[i]}</option>
      ))}
    </select>
  );
}
