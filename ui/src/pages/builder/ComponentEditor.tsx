// The component editor: Component name, the settings under their tab (Connection or
// Options), Save, Save and Close, Revert, and the version history. Processes open the canvas.
import { lazy, Suspense, useMemo, useState } from "react";
import type { ProcessEditorProps } from "../../canvas/ProcessEditor";
import { errorsOf } from "../../forms/errors";
import type { Body, ComponentDetail, JsonSchema, User } from "../../types";
import { canEdit } from "../../types";
import { ComponentActions } from "./ComponentActions";
import { EditorTabs } from "./EditorTabs";
import { TYPE_TITLES, useConnectors } from "./useConnectors";
import { useEditor, type NewSpec } from "./useEditor";

interface Props {
  componentId: string | null;
  spec: NewSpec | null;
  user: User;
  notice?: string; // shown once loaded (e.g. "Saved version 1." after the first save)
  /** After a save. `inPlace`: the editor stays as it is (the canvas keeps its undo history
   * and a Test under way), so only the address and the tree follow. */
  onSaved: (saved: Pick<ComponentDetail, "id" | "version"> & { inPlace?: boolean }) => void;
  onClose: () => void;
}

// the canvas (and its graph library) loads only when a process is opened
const LazyProcessEditor = lazy(() => import("../../canvas/ProcessEditor").then((m) => ({ default: m.ProcessEditor })));

function ProcessEditor(props: ProcessEditorProps) {
  return (
    <Suspense fallback={<p>Loading the canvas…</p>}>
      <LazyProcessEditor {...props} />
    </Suspense>
  );
}

export function ComponentEditor(props: Props) {
  const type = props.spec?.type ?? null;
  if (type === "process" && !props.componentId) {
    return <ProcessEditor componentId={null} onClose={props.onClose} readOnly={!canEdit(props.user)}
                          onSaved={(saved) => props.onSaved({ id: saved.id, version: saved.version, inPlace: true })}
                          spec={{ name: props.spec?.name ?? "", folder: props.spec?.folder ?? null }} />;
  }
  return <Editor {...props} />;
}

function Editor({ componentId, spec, user, notice, onSaved, onClose }: Props) {
  const { state, edit, setPending, save, revert } = useEditor(componentId, spec, notice);
  const { connectors } = useConnectors();
  const readOnly = !canEdit(user);
  const type = String(state.draft.type ?? spec?.type ?? "");
  const connector = connectors.find((c) => c.name === state.draft.connector) ?? null;
  const schema: JsonSchema | null = useMemo(() => {
    if (!connector) return null;
    return type === "connection" ? connector.connection_schema : type === "operation" ? connector.operation_schema : null;
  }, [connector, type]);
  const [busy, setBusy] = useState(false);

  if (!state.loaded) return <p>Loading…</p>;
  if (type === "process" && state.detail) {
    return <ProcessEditor componentId={state.detail.id} onClose={onClose} readOnly={readOnly} />;
  }
  if (!state.detail && !spec) return <p role="alert">{state.message || "No such component."}</p>;

  async function doSave(close: boolean) {
    setBusy(true);
    const saved = await save(schema);
    setBusy(false);
    if (saved) (close ? onClose : onSaved)(saved);
  }

  const nameErrors = errorsOf(state.errors, "name");
  const title = `${TYPE_TITLES[type] ?? type}${connector ? ` · ${connector.title}` : ""}`;
  return (
    <section className="editor" aria-label="Component editor">
      <p className="editor-kind">{title}{state.detail ? ` · version ${state.detail.version}` : " · not saved yet"}</p>
      <div className="name-row">
        <label htmlFor="component-name">Component name</label>
        <input id="component-name" value={String(state.draft.name ?? "")} readOnly={readOnly}
               aria-invalid={nameErrors.length > 0} aria-describedby={nameErrors.length ? "component-name-error" : undefined}
               onChange={(e) => edit((d: Body) => ({ ...d, name: e.target.value }))} />
        {nameErrors.length > 0 && <div id="component-name-error" role="alert" className="field-error">{nameErrors.join(" ")}</div>}
      </div>
      {state.message && <div role="alert" className="error">{state.message}</div>}
      {state.notice && <p role="status" className="notice">{state.notice}</p>}
      <EditorTabs type={type} schema={schema} state={state} readOnly={readOnly} edit={edit} setPending={setPending} />
      <div className="buttons editor-buttons">
        {!readOnly && <button type="button" disabled={busy} onClick={() => doSave(false)}>Save</button>}
        {!readOnly && <button type="button" disabled={busy} onClick={() => doSave(true)}>Save and Close</button>}
        {!readOnly && <button type="button" disabled={busy} onClick={() => void revert()}>Revert</button>}
        <button type="button" onClick={onClose}>Close</button>
      </div>
      {!readOnly && state.detail && <ComponentActions detail={state.detail} onDeleted={onClose} />}
    </section>
  );
}
