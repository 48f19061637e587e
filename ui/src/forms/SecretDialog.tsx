// The Click to set dialog: one password field labelled by the setting's title, Apply, Cancel.
import { useId, useState, type FormEvent } from "react";
import { createPortal } from "react-dom";

interface Props {
  title: string;
  onApply: (value: string) => void;
  onCancel: () => void;
}

export function SecretDialog({ title, onApply, onCancel }: Props) {
  const [value, setValue] = useState("");
  const inputId = useId();
  const headingId = useId();

  function apply(event: FormEvent) {
    event.preventDefault();
    event.stopPropagation();
    onApply(value);
  }

  // a portal: the dialog's form must not sit inside the settings form
  return createPortal(
    <div className="dialog-backdrop">
      <div role="dialog" aria-modal="true" aria-labelledby={headingId} className="dialog">
        <h2 id={headingId}>Set {title}</h2>
        <form onSubmit={apply}>
          <label htmlFor={inputId}>{title}</label>
          <input id={inputId} type="password" autoComplete="new-password" autoFocus value={value}
                 onChange={(e) => setValue(e.target.value)}
                 onKeyDown={(e) => e.key === "Escape" && onCancel()} />
          <div className="buttons">
            <button type="submit">Apply</button>
            <button type="button" onClick={onCancel}>Cancel</button>
          </div>
        </form>
      </div>
    </div>,
    document.body,
  );
}
