// Create New: a menu of the component types, then the create dialog.
import { useRef, useState } from "react";
import { CreateDialog } from "./CreateDialog";
import type { NewSpec } from "./useEditor";

const ITEMS: [string, string][] = [
  ["connection", "Connection"],
  ["operation", "Connector Operation"],
  ["process", "Process"],
  ["profile", "Profile"],
  ["map", "Map"],
];

export function CreateNew({ onCreate }: { onCreate: (spec: NewSpec) => void }) {
  const [open, setOpen] = useState(false);
  const [type, setType] = useState<string | null>(null);
  const button = useRef<HTMLButtonElement>(null);

  function choose(value: string) {
    setOpen(false);
    setType(value);
  }

  return (
    <div className="create-new">
      <button ref={button} type="button" aria-haspopup="menu" aria-expanded={open} aria-controls="create-new-menu"
              onClick={() => setOpen(!open)}>Create New</button>
      {open && (
        <ul id="create-new-menu" role="menu" aria-label="Create New"
            onKeyDown={(e) => { if (e.key === "Escape") { setOpen(false); button.current?.focus(); } }}>
          {ITEMS.map(([value, label], index) => (
            <li key={value} role="none">
              <button type="button" role="menuitem" autoFocus={index === 0} onClick={() => choose(value)}>{label}</button>
            </li>
          ))}
        </ul>
      )}
      {type && (
        <CreateDialog type={type} onCancel={() => setType(null)}
                      onCreate={(spec) => { setType(null); onCreate(spec); }} />
      )}
    </div>
  );
}
