// Pure edits of the process graph: add a shape, connect an outlet, delete, edit a shape.
// Each returns a new graph, so the history (undo/redo) can keep the old one.
import { isObject, outletEdge } from "./convert";
import { newShapeId } from "./ids";
import { handleOf, indexedOutlet, outletOf, outletSpecs, type OutletTable } from "./outlets";
import type { JsonObject, OutletEdge, Position, ProcessGraph } from "./types";

/** Add a shape of `type`; its id is `wanted` when free, else a new slug of the type. */
export function addShape(graph: ProcessGraph, type: string, position: Position, wanted?: string): { graph: ProcessGraph; id: string } {
  const taken = graph.nodes.map((n) => n.id);
  const id = wanted && !taken.includes(wanted) ? wanted : newShapeId(type, taken);
  const node = { id, type: "shape" as const, position, data: { shape: { type } } };
  const start = graph.start === undefined && type === "start" ? id : graph.start;
  return { graph: { ...graph, start, nodes: [...graph.nodes, node] }, id };
}

/** Renumber each shape's branch edges 0..n-1, keeping their order. */
export function normalizeBranches(edges: OutletEdge[]): OutletEdge[] {
  const counters = new Map<string, number>();
  const branchEdges = edges
    .filter((e) => indexedOutlet(e.data?.outlet ?? "")?.key === "branches")
    .sort((a, b) => (indexedOutlet(a.data?.outlet ?? "")?.index ?? 0) - (indexedOutlet(b.data?.outlet ?? "")?.index ?? 0));
  const renamed = new Map<string, OutletEdge>();
  for (const edge of branchEdges) {
    const n = counters.get(edge.source) ?? 0;
    counters.set(edge.source, n + 1);
    const outlet = `branches[${n}]`;
    renamed.set(edge.id, outletEdge(edge.source, outlet, edge.target, handleOf(outlet)));
  }
  return edges.map((e) => renamed.get(e.id) ?? e);
}

/** Link an outlet (by its handle id) of `source` to `target`; an outlet links one shape. */
export function connect(graph: ProcessGraph, source: string, handle: string, target: string): ProcessGraph {
  const outlet = outletOf(handle);
  const node = graph.nodes.find((n) => n.id === source);
  if (!node || !graph.nodes.some((n) => n.id === target)) return graph;
  const shape: JsonObject = structuredClone(node.data.shape);
  const indexed = indexedOutlet(outlet);
  if (!indexed) delete shape[outlet];
  else if (Array.isArray(shape[indexed.key]) && indexed.key === "branches") delete shape[indexed.key];
  else {
    const entry = Array.isArray(shape[indexed.key]) ? (shape[indexed.key] as unknown[])[indexed.index] : undefined;
    if (isObject(entry)) delete entry.next;
  }
  const nodes = graph.nodes.map((n) => (n.id === source ? { ...n, data: { ...n.data, shape } } : n));
  const edges = graph.edges.filter((e) => !(e.source === source && e.data?.outlet === outlet));
  edges.push(outletEdge(source, outlet, target, handleOf(outlet)));
  return { ...graph, nodes, edges: normalizeBranches(edges) };
}

export function disconnect(graph: ProcessGraph, source: string, handle: string): ProcessGraph {
  const outlet = outletOf(handle);
  const edges = graph.edges.filter((e) => !(e.source === source && e.data?.outlet === outlet));
  return { ...graph, edges: normalizeBranches(edges) };
}

export function removeEdges(graph: ProcessGraph, ids: string[]): ProcessGraph {
  const gone = new Set(ids);
  return { ...graph, edges: normalizeBranches(graph.edges.filter((e) => !gone.has(e.id))) };
}

export function removeNodes(graph: ProcessGraph, ids: string[]): ProcessGraph {
  const gone = new Set(ids);
  return {
    ...graph,
    nodes: graph.nodes.filter((n) => !gone.has(n.id)),
    edges: normalizeBranches(graph.edges.filter((e) => !gone.has(e.source) && !gone.has(e.target))),
  };
}

/** Replace a shape's keys (from the side panel); route cases that went away lose their edges. */
export function updateShape(graph: ProcessGraph, id: string, shape: JsonObject): ProcessGraph {
  const cases = Array.isArray(shape.cases) ? shape.cases.length : 0;
  const edges = graph.edges.filter((e) => {
    const indexed = indexedOutlet(e.data?.outlet ?? "");
    return !(e.source === id && indexed?.key === "cases" && indexed.index >= cases);
  });
  const nodes = graph.nodes.map((n) => (n.id === id ? { ...n, data: { ...n.data, shape } } : n));
  return { ...graph, nodes, edges };
}

export function setStart(graph: ProcessGraph, id: string): ProcessGraph {
  return { ...graph, start: id };
}

/** The handle ids of a node's outlets, in the order its paths run. */
export function handlesOf(graph: ProcessGraph, id: string, table: OutletTable): string[] {
  const node = graph.nodes.find((n) => n.id === id);
  if (!node) return [];
  const type = typeof node.data.shape.type === "string" ? node.data.shape.type : "";
  const handles: string[] = [];
  for (const spec of outletSpecs(table, type)) {
    if (spec.kind === "single") handles.push(spec.key);
    else if (spec.kind === "list") {
      const linked = graph.edges.filter((e) => e.source === id && indexedOutlet(e.data?.outlet ?? "")?.key === spec.key);
      const count = Math.max(2, linked.length + 1);
      for (let i = 0; i < count; i += 1) handles.push(handleOf(`${spec.key}[${i}]`));
    } else {
      const entries = node.data.shape[spec.key];
      const count = Array.isArray(entries) ? entries.length : 0;
      for (let i = 0; i < count; i += 1) handles.push(handleOf(`${spec.key}[${i}]`));
    }
  }
  return handles;
}

/** Give shape `from` the id `to`: its edges (both ends) and the start follow. */
export function renameShape(graph: ProcessGraph, from: string, to: string): ProcessGraph {
  if (from === to || !graph.nodes.some((n) => n.id === from) || graph.nodes.some((n) => n.id === to)) return graph;
  const rename = (id: string) => (id === from ? to : id);
  const nodes = graph.nodes.map((n) => (n.id === from ? { ...n, id: to } : n));
  const edges = graph.edges.map((e) =>
    e.source === from || e.target === from
      ? outletEdge(rename(e.source), e.data?.outlet ?? "next", rename(e.target), e.sourceHandle ?? handleOf(e.data?.outlet ?? "next"))
      : e,
  );
  return { ...graph, start: graph.start === from ? to : graph.start, nodes, edges };
}
