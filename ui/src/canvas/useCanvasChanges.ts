// React Flow's change events turned into graph edits: moves and measurements replace the
// present graph (a drag records one undo step when it ends), deletions are undoable.
import { applyEdgeChanges, applyNodeChanges, type EdgeChange, type NodeChange } from "@xyflow/react";
import { useRef } from "react";
import { removeEdges, removeNodes } from "./graphOps";
import { record, type History } from "./history";
import type { OutletEdge, ProcessGraph, ShapeNode } from "./types";

type Setter = (change: (h: History<ProcessGraph>) => History<ProcessGraph>) => void;

function rounded(change: NodeChange<ShapeNode>): NodeChange<ShapeNode> {
  if (change.type !== "position" || !change.position) return change;
  return { ...change, position: { x: Math.round(change.position.x), y: Math.round(change.position.y) } };
}

export function useCanvasChanges(
  present: ProcessGraph,
  setHistory: Setter,
  selected: string | null,
  select: (id: string | null) => void,
) {
  const checkpoint = useRef<ProcessGraph | null>(null);

  /** One undo step for a deletion, however many shapes and connections it took. */
  const onDelete = ({ nodes, edges }: { nodes: ShapeNode[]; edges: OutletEdge[] }) => {
    const nodeIds = nodes.map((n) => n.id);
    setHistory((h) => record(h, removeEdges(removeNodes(h.present, nodeIds), edges.map((e) => e.id))));
    if (selected && nodeIds.includes(selected)) select(null);
  };

  // "remove" changes are left to onDelete, which gets the whole deletion at once
  const onNodesChange = (changes: NodeChange<ShapeNode>[]) => {
    for (const c of changes) {
      if (c.type === "select" && c.selected) select(c.id);
      else if (c.type === "select" && c.id === selected) select(null);
    }
    const layout = changes.filter((c) => c.type === "position" || c.type === "dimensions").map(rounded);
    if (layout.length === 0) return;
    if (checkpoint.current === null && layout.some((c) => c.type === "position" && c.dragging)) checkpoint.current = present;
    const ended = layout.some((c) => c.type === "position" && c.dragging === false);
    const before = ended ? checkpoint.current : null;
    if (ended) checkpoint.current = null;
    setHistory((h) => {
      const moved = { ...h.present, nodes: applyNodeChanges(layout, h.present.nodes) };
      return before ? record(h, moved, before) : { ...h, present: moved };
    });
  };

  const onEdgesChange = (changes: EdgeChange<OutletEdge>[]) => {
    const selection = changes.filter((c) => c.type === "select");
    if (selection.length > 0) {
      setHistory((h) => ({ ...h, present: { ...h.present, edges: applyEdgeChanges(selection, h.present.edges) } }));
    }
  };

  return { onNodesChange, onEdgesChange, onDelete };
}
