// The React Flow surface: shapes dropped from the palette, outlets connected by dragging a
// handle onto a shape (or its input handle), Delete to remove, click to select.
import {
  Background, Controls, ReactFlow, useReactFlow,
  type Connection, type EdgeChange, type FinalConnectionState, type NodeChange, type NodeTypes,
} from "@xyflow/react";
import { useState, type DragEvent } from "react";
import { SHAPE_MIME } from "./Palette";
import { ShapeNode } from "./ShapeNode";
import type { OutletEdge, Position, ShapeNode as ShapeNodeType } from "./types";

const nodeTypes: NodeTypes = { shape: ShapeNode };

export interface FlowCanvasProps {
  nodes: ShapeNodeType[];
  edges: OutletEdge[];
  onNodesChange: (changes: NodeChange<ShapeNodeType>[]) => void;
  onEdgesChange: (changes: EdgeChange<OutletEdge>[]) => void;
  onDelete: (deleted: { nodes: ShapeNodeType[]; edges: OutletEdge[] }) => void;
  onConnectOutlet: (source: string, handle: string, target: string) => void;
  onDropShape: (type: string, position: Position) => void;
  onSelect: (id: string | null) => void;
  readOnly: boolean;
}

function pointOf(event: MouseEvent | TouchEvent): { x: number; y: number } | null {
  if ("changedTouches" in event) {
    const touch = event.changedTouches[0];
    return touch ? { x: touch.clientX, y: touch.clientY } : null;
  }
  return { x: event.clientX, y: event.clientY };
}

/** A connection dropped on a shape's body (not on its input handle) links to that shape. */
function nodeUnder(event: MouseEvent | TouchEvent): string | null {
  const point = pointOf(event);
  if (!point || typeof document.elementFromPoint !== "function") return null;
  const element = document.elementFromPoint(point.x, point.y);
  return element?.closest(".react-flow__node")?.getAttribute("data-id") ?? null;
}

export function FlowCanvas(props: FlowCanvasProps) {
  const flow = useReactFlow();
  // Fit a loaded process into view once; a new, empty one keeps zoom 1 so drops land where aimed.
  const [fit] = useState(props.nodes.length > 0);
  const onConnect = (c: Connection) => {
    if (c.sourceHandle) props.onConnectOutlet(c.source, c.sourceHandle, c.target);
  };
  const onConnectEnd = (event: MouseEvent | TouchEvent, state: FinalConnectionState) => {
    if (state.isValid || !state.fromNode || !state.fromHandle?.id || state.fromHandle.type !== "source") return;
    const target = nodeUnder(event);
    if (target && target !== state.fromNode.id) props.onConnectOutlet(state.fromNode.id, state.fromHandle.id, target);
  };
  const onDragOver = (event: DragEvent) => {
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
  };
  const onDrop = (event: DragEvent) => {
    const type = event.dataTransfer.getData(SHAPE_MIME) || event.dataTransfer.getData("text/plain");
    if (!type || props.readOnly) return;
    event.preventDefault();
    const at = flow.screenToFlowPosition({ x: event.clientX, y: event.clientY });
    props.onDropShape(type, { x: Math.round(at.x), y: Math.round(at.y) });
  };
  return (
    <div className="canvas-surface" data-testid="canvas-surface" onDragOver={onDragOver} onDrop={onDrop}>
      <ReactFlow<ShapeNodeType, OutletEdge>
        nodes={props.nodes}
        edges={props.edges}
        nodeTypes={nodeTypes}
        onNodesChange={props.onNodesChange}
        onEdgesChange={props.onEdgesChange}
        onDelete={props.onDelete}
        onConnect={onConnect}
        onConnectEnd={onConnectEnd}
        onNodeClick={(_, node) => props.onSelect(node.id)}
        onPaneClick={() => props.onSelect(null)}
        deleteKeyCode={props.readOnly ? null : ["Delete", "Backspace"]}
        nodesDraggable={!props.readOnly}
        nodesConnectable={!props.readOnly}
        fitView={fit}
        fitViewOptions={{ maxZoom: 1, padding: 0.2 }}
        aria-label="Process diagram"
      >
        <Background />
        <Controls />
      </ReactFlow>
    </div>
  );
}
