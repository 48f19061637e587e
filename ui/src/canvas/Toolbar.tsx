// The editor's bar: Component name, Save, Save and Close, Test, Undo, Redo.
export interface ToolbarProps {
  name: string;
  busy: boolean;
  canUndo: boolean;
  canRedo: boolean;
  onName: (name: string) => void;
  onSave: () => void;
  onSaveAndClose: () => void;
  onTest: () => void;
  onUndo: () => void;
  onRedo: () => void;
}

export function Toolbar(props: ToolbarProps) {
  return (
    <div role="toolbar" aria-label="Process editor" className="canvas-toolbar">
      <label>
        Component name
        <input value={props.name} onChange={(e) => props.onName(e.target.value)} />
      </label>
      <button type="button" onClick={props.onSave} disabled={props.busy}>Save</button>
      <button type="button" onClick={props.onSaveAndClose} disabled={props.busy}>Save and Close</button>
      <button type="button" onClick={props.onTest} disabled={props.busy}>Test</button>
      <button type="button" onClick={props.onUndo} disabled={!props.canUndo} title="Ctrl+Z">Undo</button>
      <button type="button" onClick={props.onRedo} disabled={!props.canRedo} title="Ctrl+Shift+Z">Redo</button>
    </div>
  );
}
