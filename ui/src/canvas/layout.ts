// Positions for shapes the body's `layout` does not place: columns by distance from the
// start shape, rows in the order shapes are met.
import type { Json, OutletEdge, ShapeNode } from "./types";

export const COLUMN_WIDTH = 240;
export const ROW_HEIGHT = 120;

function depths(nodes: ShapeNode[], edges: OutletEdge[], start: Json | undefined): Map<string, number> {
  const depth = new Map<string, number>();
  const roots = typeof start === "string" && nodes.some((n) => n.id === start) ? [start] : [];
  const queue: string[] = [...roots];
  roots.forEach((id) => depth.set(id, 0));
  for (const node of nodes) {
    if (queue.length === 0 && !depth.has(node.id)) {
      depth.set(node.id, 0);
      queue.push(node.id);
    }
    while (queue.length > 0) {
      const id = queue.shift() as string;
      for (const edge of edges) {
        if (edge.source === id && !depth.has(edge.target)) {
          depth.set(edge.target, (depth.get(id) ?? 0) + 1);
          queue.push(edge.target);
        }
      }
    }
  }
  return depth;
}

export function autoLayout(nodes: ShapeNode[], edges: OutletEdge[], start: Json | undefined): ShapeNode[] {
  if (nodes.every((n) => Number.isFinite(n.position.x) && Number.isFinite(n.position.y))) return nodes;
  const depth = depths(nodes, edges, start);
  const rows = new Map<number, number>();
  return nodes.map((node) => {
    const column = depth.get(node.id) ?? 0;
    const row = rows.get(column) ?? 0;
    rows.set(column, row + 1);
    if (Number.isFinite(node.position.x) && Number.isFinite(node.position.y)) return node;
    return { ...node, position: { x: column * COLUMN_WIDTH, y: row * ROW_HEIGHT } };
  });
}
