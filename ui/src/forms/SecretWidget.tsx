// A secret setting (a password, a token): never shown. It says "set" or "not set", and
// Click to set opens a dialog whose value the editor keeps until Save sends it.
import type { WidgetProps } from "@rjsf/utils";
import { useState } from "react";
import { SecretDialog } from "./SecretDialog";

export interface SecretContext {
  status: Record<string, string>; // from the server: "set" | "not set"
  pending: Record<string, string>; // typed here, sent on Save
  setPending: (field: string, value: string) => void;
  readOnly: boolean;
}

export function SecretWidget(props: WidgetProps) {
  const context = props.registry.formContext as SecretContext;
  const field = props.name;
  const title = String(props.schema.title ?? props.label ?? field);
  const [open, setOpen] = useState(false);
  const pending = field in context.pending;
  const status = pending ? "set (not saved yet)" : (context.status[field] ?? "not set");
  const statusId = `${props.id}__status`;
  return (
    <div className="secret" role="group" aria-label={title}>
      <span className="secret-title">{title}</span>{" "}
      <span id={statusId} className="secret-status">{status}</span>{" "}
      {!context.readOnly && (
        <button type="button" aria-describedby={statusId} onClick={() => setOpen(true)}>Click to set</button>
      )}
      {open && (
        <SecretDialog
          title={title}
          onApply={(value) => {
            context.setPending(field, value);
            setOpen(false);
          }}
          onCancel={() => setOpen(false)}
        />
      )}
    </div>
  );
}
