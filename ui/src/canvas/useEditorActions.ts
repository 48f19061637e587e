// What the editor's parts do: add and connect shapes, decorate nodes (name, status,
// problems), the side panel's props, Save and Close, Test.
import { useMemo, useRef } from "react";
import type { CanvasDecorations } from "./CanvasContext";
import { shapeOf } from "./convert";
import { addShape, connect, disconnect, handlesOf, removeNodes, setStart, updateShape } from "./graphOps";
import { newShapeId } from "./ids";
import { COLUMN_WIDTH } from "./layout";
import { handleOf, type OutletTable } from "./outlets";
import type { SidePanelProps } from "./SidePanel";
import { shapeName } from "./ShapeNode";
import type { JsonObject, Position, ProcessGraph, ShapeInfo, ShapeNode } from "./types";
import type { useProcessDoc } from "./useProcessDoc";
import type { useShapeNaming } from "./useShapeNaming";
import type { TestRun } from "./useTestRun";
import { validateShape, type FieldErrors, type Problems } from "./validation";

type DocState = ReturnType<typeof useProcessDoc>;

const TYPING_MS = 1000;

export function useEditorActions(
  state: DocState,
  selected: string | null,
  naming: ReturnType<typeof useShapeNaming>,
  run: TestRun,
  onClose: () => void,
  startTest: (processId: string) => Promise<void>,
  readOnly: boolean,
) {
  const graph = state.doc.history.present;
  const { commit, replace } = state.doc;
  const { select } = naming;
  const lastEdit = useRef<{ id: string; at: number } | null>(null);
  /** Typing in the side panel: edits of one shape within a second make one undo step. */
  const editShape = (id: string, shape: JsonObject) => {
    const now = Date.now();
    const same = lastEdit.current?.id === id && now - lastEdit.current.at < TYPING_MS;
    lastEdit.current = { id, at: now };
    (same ? replace : commit)((g) => updateShape(g, id, shape));
  };
  const infos = useMemo(() => Object.fromEntries(state.shapes.map((s) => [s.type, s])), [state.shapes]);

  const problems = useMemo(() => findProblems(graph, infos, state.table, state.errors.byShape), [graph, infos, state.table, state.errors]);

  const handles = Object.fromEntries(graph.nodes.map((n) => [n.id, handlesOf(graph, n.id, state.table)]));
  const start = typeof graph.start === "string" ? graph.start : null;
  const decorations: CanvasDecorations = { infos, handles, start, status: run.status, counts: run.counts, problems };
  const nodes: ShapeNode[] = graph.nodes.map((n) => ({
    ...n,
    selected: n.id === selected,
    ariaLabel: shapeName(n.data.shape),
    domAttributes: { "data-status": run.status[n.id] ?? "idle" } as unknown as ShapeNode["domAttributes"],
  }));

  const add = (type: string, position: Position) => {
    // the id is chosen here, not inside the state updater (React may run that later)
    const id = newShapeId(type, graph.nodes.map((n) => n.id));
    commit((g) => addShape(g, type, position, id).graph);
    naming.markFresh(id);
    select(id);
  };
  const addAtFreeSpot = (type: string) => {
    const anchor = graph.nodes.find((n) => n.id === selected) ?? graph.nodes[graph.nodes.length - 1];
    add(type, anchor ? { x: anchor.position.x + COLUMN_WIDTH, y: anchor.position.y } : { x: 0, y: 0 });
  };
  const connectOutlet = (source: string, handle: string, target: string) => commit((g) => connect(g, source, handle, target));

  /** Save, after the new shapes with a label took its id. */
  const save = () => {
    const named = naming.nameAll();
    return state.save(named === graph ? undefined : named);
  };
  const saveAndClose = async () => {
    if ((await save()) !== null) onClose();
  };
  const test = async () => {
    const named = naming.nameAll();
    const id = state.dirty || state.id === null || named !== graph ? await state.save(named) : state.id;
    if (id !== null) await startTest(id);
  };

  const node = graph.nodes.find((n) => n.id === selected);
  const side = node
    ? sidePanelProps(node, { graph, commit, editShape, select, decorations, run, readOnly, fieldErrors: state.errors.fields[node.id] })
    : null;
  return { decorations, nodes, add, addAtFreeSpot, connectOutlet, save, saveAndClose, test, side };
}

interface SideContext {
  graph: ProcessGraph;
  commit: (change: (g: ProcessGraph) => ProcessGraph) => void;
  editShape: (id: string, shape: JsonObject) => void;
  select: (id: string | null) => void;
  decorations: CanvasDecorations;
  run: TestRun;
  readOnly: boolean;
  fieldErrors: FieldErrors | undefined;
}

function sidePanelProps(node: ShapeNode, ctx: SideContext): SidePanelProps {
  const { graph, commit, decorations } = ctx;
  const id = node.id;
  const targets = Object.fromEntries(
    graph.edges.filter((e) => e.source === id).map((e) => [handleOf(e.data?.outlet ?? ""), e.target]),
  );
  return {
    shapeId: id,
    shape: node.data.shape,
    info: decorations.infos[String(node.data.shape.type)],
    isStart: decorations.start === id,
    handles: decorations.handles[id] ?? [],
    targets,
    shapes: graph.nodes.filter((n) => n.id !== id).map((n) => ({ id: n.id, name: shapeName(n.data.shape) })),
    problems: decorations.problems[id] ?? [],
    executionId: ctx.run.finished ? ctx.run.executionId : null,
    readOnly: ctx.readOnly,
    fieldErrors: ctx.fieldErrors,
    onChange: (shape: JsonObject) => ctx.editShape(id, shape),
    onConnect: (handle, target) => commit((g) => (target ? connect(g, id, handle, target) : disconnect(g, id, handle))),
    onMakeStart: () => commit((g) => setStart(g, id)),
    onDelete: () => {
      commit((g) => removeNodes(g, [id]));
      ctx.select(null);
    },
  };
}

/** Each shape's problems: its schema's complaints, then the server's. */
function findProblems(graph: ProcessGraph, infos: Record<string, ShapeInfo>, table: OutletTable, server: Problems): Problems {
  const found: Problems = {};
  for (const node of graph.nodes) {
    const shape = shapeOf(graph, node.id, table) ?? {};
    const list = [...validateShape(infos[String(shape.type)]?.schema, shape), ...(server[node.id] ?? [])];
    if (list.length > 0) found[node.id] = list;
  }
  return found;
}
