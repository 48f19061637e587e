// Create New: a menu of the component types, then the create dialog.
import { useEffect, useRef, useState, type KeyboardEvent } from "react";
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
  const box = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!open) return;
    const close = (event: MouseEvent) => {
      if (!box.current?.contains(event.target as Node)) setOpen(false);
    };
    document.addEventListener("mousedown", close);
    return () => document.removeEventListener("mousedown", close);
  }, [open]);

  function keys(event: KeyboardEvent<HTMLUListElement>) {
    const items = [...event.currentTarget.querySelectorAll<HTMLButtonElement>("[role=menuitem]")];
    const at = items.indexOf(document.activeElement as HTMLButtonElement);
    if (event.key === "Escape") {
      setOpen(false);
      button.current?.focus();
    } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : items.length - 1;
      items[(at + step) % items.length]?.focus();
    }
  }

  function choose(value: string) {
    setOpen(false);
    setType(value);
  }

  return (
    <div className="create-new" ref={box}>
      <button ref={button} type="button" aria-haspopup="menu" aria-expanded={open} aria-controls="create-new-menu"
              onClick={() => setOpen(!open)}>Create New</button>
      {open && (
        <ul id="create-new-menu" role="menu" aria-label="Create New" onKeyDown={keys}>
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
