// Types shared by the process canvas: the process body (the YAML form as JSON), the
// palette entries from GET /api/shapes, and the React Flow graph the canvas edits.
import type { Edge, Node } from "@xyflow/react";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface Position {
  x: number;
  y: number;
}

/** A process component body: type, name, id, folder, start, shapes, optional layout. */
export interface ProcessBody {
  [key: string]: Json | undefined;
  start?: Json;
  shapes?: Json;
  layout?: Json;
}

/** One palette entry of GET /api/shapes. */
export interface ShapeInfo {
  type: string;
  title: string;
  outlets: string[];
  schema: JsonObject;
}

/** A node keeps its shape's keys, minus the outlets that became edges. */
export interface ShapeNodeData {
  [key: string]: unknown;
  shape: JsonObject;
}

export type ShapeNode = Node<ShapeNodeData, "shape">;

/** An edge carries the outlet it stands for: next, true, false, try, catch, default,
 *  branches[i] or cases[i]. */
export interface OutletEdgeData {
  [key: string]: unknown;
  outlet: string;
}

export type OutletEdge = Edge<OutletEdgeData>;

/** The graph the canvas edits; `meta` holds the body's other keys (type, name, id, ...). */
export interface ProcessGraph {
  meta: JsonObject;
  start: Json | undefined;
  nodes: ShapeNode[];
  edges: OutletEdge[];
}

export type RunStatus = "running" | "passed" | "failed";
