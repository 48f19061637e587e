// The heart of the canvas: a process body (the YAML form as JSON, with an optional
// `layout`) to React Flow nodes and edges and back. Links to existing shapes become edges
// that carry their outlet; every other key stays in the node untouched, so
// graphToBody(bodyToGraph(body)) gives back the same body (plus a layout entry per shape).
import { autoLayout } from "./layout";
import { DEFAULT_OUTLETS, handleOf, indexedOutlet, outletSpecs, type OutletSpec, type OutletTable } from "./outlets";
import type { Json, JsonObject, OutletEdge, Position, ProcessBody, ProcessGraph, ShapeNode } from "./types";

export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function outletEdge(source: string, outlet: string, target: string, handle: string): OutletEdge {
  return {
    id: `${source}->${outlet}`,
    source,
    target,
    sourceHandle: handle,
    data: { outlet },
    label: outlet === "next" ? undefined : handle,
    ariaLabel: `${source} ${handle} to ${target}`,
    // not "group" (React Flow's default): only shapes are groups named like shapes
    ariaRole: "img",
  };
}

function link(source: string, outlet: string, target: string): OutletEdge {
  return outletEdge(source, outlet, target, handleOf(outlet));
}

/** Split one shape into the node's data (what is not a link) and its edges. */
function splitShape(id: string, shape: JsonObject, specs: OutletSpec[], ids: Set<string>) {
  const data: JsonObject = { ...shape };
  const edges: OutletEdge[] = [];
  const linksTo = (value: Json | undefined): value is string => typeof value === "string" && ids.has(value);
  for (const spec of specs) {
    const value = shape[spec.key];
    if (spec.kind === "single" && linksTo(value)) {
      edges.push(link(id, spec.key, value));
      delete data[spec.key];
    } else if (spec.kind === "list" && Array.isArray(value) && value.every(linksTo)) {
      value.forEach((target, i) => edges.push(link(id, `${spec.key}[${i}]`, target as string)));
      delete data[spec.key];
    } else if (spec.kind === "objects" && Array.isArray(value)) {
      data[spec.key] = value.map((entry, i) => {
        if (!isObject(entry) || !linksTo(entry[spec.field])) return entry;
        edges.push(link(id, `${spec.key}[${i}]`, entry[spec.field] as string));
        const { [spec.field]: _linked, ...rest } = entry;
        return rest;
      });
    }
  }
  return { data, edges };
}

function readPosition(value: Json | undefined): Position | null {
  if (!isObject(value) || typeof value.x !== "number" || typeof value.y !== "number") return null;
  return { x: value.x, y: value.y };
}

export function bodyToGraph(body: ProcessBody, table: OutletTable = DEFAULT_OUTLETS): ProcessGraph {
  const { start, shapes, layout, ...rest } = body;
  const meta = rest as JsonObject;
  const shapeMap = isObject(shapes) ? shapes : {};
  const ids = new Set(Object.keys(shapeMap));
  const layoutMap = isObject(layout) ? layout : {};
  const nodes: ShapeNode[] = [];
  let edges: OutletEdge[] = [];
  for (const [id, raw] of Object.entries(shapeMap)) {
    const shape = isObject(raw) ? raw : {};
    const type = typeof shape.type === "string" ? shape.type : "";
    const split = splitShape(id, shape, outletSpecs(table, type), ids);
    const position = readPosition(layoutMap[id]) ?? { x: Number.NaN, y: Number.NaN };
    nodes.push({ id, type: "shape", position, data: { shape: split.data } });
    edges = edges.concat(split.edges);
  }
  return { meta, start, nodes: autoLayout(nodes, edges, start), edges };
}

/** Put the edges leaving one node back into its shape. */
function joinShape(data: JsonObject, edges: OutletEdge[], specs: OutletSpec[]): JsonObject {
  const shape: JsonObject = structuredClone(data);
  const lists = new Map<string, [number, string][]>();
  for (const edge of edges) {
    const outlet = edge.data?.outlet ?? "";
    const indexed = indexedOutlet(outlet);
    if (!indexed) {
      shape[outlet] = edge.target;
      continue;
    }
    const spec = specs.find((s) => s.key === indexed.key);
    if (spec?.kind === "objects") {
      const entries = shape[spec.key];
      const entry = Array.isArray(entries) ? entries[indexed.index] : undefined;
      if (isObject(entry)) entry[spec.field] = edge.target;
    } else {
      lists.set(indexed.key, [...(lists.get(indexed.key) ?? []), [indexed.index, edge.target]]);
    }
  }
  for (const [key, entries] of lists) {
    shape[key] = entries.sort((a, b) => a[0] - b[0]).map(([, target]) => target);
  }
  return shape;
}

export function graphToBody(graph: ProcessGraph, table: OutletTable = DEFAULT_OUTLETS): ProcessBody {
  const shapes: JsonObject = {};
  const layout: JsonObject = {};
  const bySource = new Map<string, OutletEdge[]>();
  for (const edge of graph.edges) bySource.set(edge.source, [...(bySource.get(edge.source) ?? []), edge]);
  for (const node of graph.nodes) {
    const type = typeof node.data.shape.type === "string" ? node.data.shape.type : "";
    const leaving = bySource.get(node.id) ?? [];
    shapes[node.id] = joinShape(node.data.shape, leaving, outletSpecs(table, type));
    layout[node.id] = { x: node.position.x, y: node.position.y };
  }
  const body: ProcessBody = { ...graph.meta };
  if (graph.start !== undefined) body.start = graph.start;
  body.shapes = shapes;
  body.layout = layout;
  return body;
}

/** One shape as the body would hold it (for validation and the side panel). */
export function shapeOf(graph: ProcessGraph, id: string, table: OutletTable = DEFAULT_OUTLETS): JsonObject | null {
  const node = graph.nodes.find((n) => n.id === id);
  if (!node) return null;
  const type = typeof node.data.shape.type === "string" ? node.data.shape.type : "";
  const leaving = graph.edges.filter((edge) => edge.source === id);
  return joinShape(node.data.shape, leaving, outletSpecs(table, type));
}
