// The process canvas (issue 9): the Build page's editor for components of type "process".
// It loads and saves the component itself through the API.
import "@xyflow/react/dist/style.css";
import "./canvas.css";
import { ReactFlowProvider } from "@xyflow/react";
import { useState } from "react";
import { CanvasContext } from "./CanvasContext";
import { FlowCanvas } from "./FlowCanvas";
import { Palette } from "./Palette";
import { ProcessLog } from "./ProcessLog";
import { SidePanel } from "./SidePanel";
import { Toolbar } from "./Toolbar";
import { TestStatus } from "./TestStatus";
import { useCanvasChanges } from "./useCanvasChanges";
import { useEditorActions } from "./useEditorActions";
import { useProcessDoc, type NewProcess } from "./useProcessDoc";
import { useShapeNaming } from "./useShapeNaming";
import { useTestRun } from "./useTestRun";
import { useUndoKeys } from "./useUndoKeys";

export interface ProcessEditorProps {
  componentId: string | null; // null: a new process not yet saved
  onClose: () => void;
  /** Optional: told after each successful save (a new process gets its id on the first). */
  onSaved?: (saved: { id: string; version: number; name: string }) => void;
  /** Optional: a viewer sees the process, its shapes and settings, but cannot change or test it. */
  readOnly?: boolean;
  /** Optional: the name and folder a new process gets (from the create dialog). */
  spec?: NewProcess;
}

function Editor({ componentId, onClose, onSaved, readOnly = false, spec }: ProcessEditorProps) {
  const state = useProcessDoc(componentId, onSaved, spec);
  const { run, start } = useTestRun();
  const [selected, setSelectedId] = useState<string | null>(null);
  const { history, setHistory } = state.doc;
  const graph = history.present;
  const naming = useShapeNaming(graph, state.doc.replace, selected, setSelectedId);
  const setSelected = naming.select;
  const changes = useCanvasChanges(graph, setHistory, selected, setSelected);
  const actions = useEditorActions(state, selected, naming, run, onClose, start, readOnly);
  const { undo, redo } = state.doc;
  useUndoKeys(readOnly, undo, redo);
  return (
    <section aria-label="Process canvas" className="canvas-editor">
      <Toolbar
        name={state.name}
        busy={state.loading || state.broken || state.saving || readOnly}
        canUndo={!readOnly && history.past.length > 0}
        canRedo={!readOnly && history.future.length > 0}
        onName={state.setName}
        onSave={() => void actions.save()}
        onSaveAndClose={() => void actions.saveAndClose()}
        onTest={() => void actions.test()}
        onUndo={state.doc.undo}
        onRedo={state.doc.redo}
      />
      {state.message && <p role="status" className="canvas-message">{state.message}</p>}
      {state.errors.general.length > 0 && (
        <ul role="alert" aria-label="Errors">{state.errors.general.map((e, i) => <li key={i}>{e}</li>)}</ul>
      )}
      <TestStatus run={run} />
      <div className="canvas-body">
        {!readOnly && <Palette shapes={state.shapes} onAdd={actions.addAtFreeSpot} />}
        <CanvasContext.Provider value={actions.decorations}>
          {!state.loading && !state.broken && <FlowCanvas
            nodes={actions.nodes}
            edges={graph.edges}
            onNodesChange={changes.onNodesChange}
            onEdgesChange={changes.onEdgesChange}
            onDelete={changes.onDelete}
            onConnectOutlet={actions.connectOutlet}
            onDropShape={actions.add}
            onSelect={setSelected}
            readOnly={readOnly}
          />}
        </CanvasContext.Provider>
        {actions.side && <SidePanel {...actions.side} />}
      </div>
      {run.finished && <ProcessLog lines={run.log} />}
    </section>
  );
}

export function ProcessEditor(props: ProcessEditorProps) {
  return (
    <ReactFlowProvider>
      <Editor {...props} />
    </ReactFlowProvider>
  );
}
