// A boolean setting: a check box labelled by the field's title, its help text under it.
import type { WidgetProps } from "@rjsf/utils";
import { ariaDescribedByIds, descriptionId } from "@rjsf/utils";

export function CheckboxWidget(props: WidgetProps) {
  const { id, value, disabled, readonly, label, schema, onChange, onBlur, onFocus } = props;
  const description = typeof schema.description === "string" ? schema.description : "";
  return (
    <div className="checkbox">
      <label>
        <input type="checkbox" id={id} name={props.htmlName || id} checked={value === true}
               disabled={disabled || readonly} aria-describedby={ariaDescribedByIds(id)}
               onChange={(e) => onChange(e.target.checked)}
               onBlur={(e) => onBlur(id, e.target.checked)} onFocus={(e) => onFocus(id, e.target.checked)} />
        <span>{String(schema.title ?? label)}</span>
      </label>
      {description && <div id={descriptionId(id)} className="field-description">{description}</div>}
    </div>
  );
}
