// The selected shape's outlets as drop-downs: a keyboard way to connect shapes.
export interface OutletPickerProps {
  handles: string[];
  targets: Record<string, string>;
  shapes: { id: string; name: string }[];
  onPick: (handle: string, target: string | null) => void;
  readOnly: boolean;
}

export function OutletPicker({ handles, targets, shapes, onPick, readOnly }: OutletPickerProps) {
  if (handles.length === 0) return <p>This shape ends its path.</p>;
  return (
    <fieldset className="canvas-outlets">
      <legend>Connections</legend>
      {handles.map((handle) => (
        <label key={handle}>
          {`Outlet ${handle}`}
          <select disabled={readOnly} value={targets[handle] ?? ""} onChange={(e) => onPick(handle, e.target.value || null)}>
            <option value="">(not connected)</option>
            {shapes.map((s) => (
              <option key={s.id} value={s.id}>{s.name === s.id ? s.id : `${s.name} (${s.id})`}</option>
            ))}
          </select>
        </label>
      ))}
    </fieldset>
  );
}
