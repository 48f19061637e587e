// The create dialog: the connector (for connections and operations), the name, the folder.
import { useEffect, useId, useState, type FormEvent } from "react";
import type { NewSpec } from "./useEditor";
import { TYPE_TITLES, useConnectors } from "./useConnectors";

interface Props {
  type: string;
  onCreate: (spec: NewSpec) => void;
  onCancel: () => void;
}

export function CreateDialog({ type, onCreate, onCancel }: Props) {
  const { connectors, error } = useConnectors();
  const needsConnector = type === "connection" || type === "operation";
  const [connector, setConnector] = useState("");
  const [name, setName] = useState("");
  const [folder, setFolder] = useState("");
  const [problem, setProblem] = useState("");
  const ids = { heading: useId(), connector: useId(), name: useId(), folder: useId() };
  const title = TYPE_TITLES[type] ?? type;

  useEffect(() => {
    if (!connector && connectors.length) setConnector(connectors[0].name);
  }, [connectors, connector]);

  function submit(event: FormEvent) {
    event.preventDefault();
    if (needsConnector && !connector) return setProblem("Pick a connector.");
    onCreate({ type, connector: needsConnector ? connector : null, name: name.trim() || `New ${title}`, folder: folder.trim() });
  }

  return (
    <div className="dialog-backdrop">
      <div role="dialog" aria-modal="true" aria-labelledby={ids.heading} className="dialog"
           onKeyDown={(e) => e.key === "Escape" && onCancel()}>
        <h2 id={ids.heading}>New {title}</h2>
        <form onSubmit={submit}>
          {needsConnector && (
            <>
              <label htmlFor={ids.connector}>Connector</label>
              <select id={ids.connector} value={connector} autoFocus onChange={(e) => setConnector(e.target.value)}>
                {connectors.map((c) => <option key={c.name} value={c.name}>{c.title}</option>)}
              </select>
            </>
          )}
          <label htmlFor={ids.name}>Name</label>
          <input id={ids.name} value={name} placeholder={`New ${title}`} autoFocus={!needsConnector} onChange={(e) => setName(e.target.value)} />
          <label htmlFor={ids.folder}>Folder</label>
          <input id={ids.folder} value={folder} placeholder="(top level)" onChange={(e) => setFolder(e.target.value)} />
          {(problem || error) && <p role="alert" className="error">{problem || error}</p>}
          <div className="buttons">
            <button type="submit">Create</button>
            <button type="button" onClick={onCancel}>Cancel</button>
          </div>
        </form>
      </div>
    </div>
  );
}
