// Shape ids: readable in the YAML and stable. A new shape is named after its type
// (message, message-2, ...); once it has a label, leaving it names it after the label
// (send-the-letter). Ids never depend on other shapes' drops, and nothing else renames a shape.
import { isObject } from "./convert";
import type { ProcessGraph } from "./types";

/** Lower-case words joined by "-", accents dropped: "Send the letter" -> "send-the-letter". */
export function slug(text: string): string {
  const cleaned = text
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 48)
    .replace(/-+$/, "");
  return cleaned || "shape";
}

/** `base` when free, else base-2, base-3, ... (the first free). */
export function uniqueId(base: string, existing: Iterable<string>): string {
  const taken = new Set(existing);
  if (!taken.has(base)) return base;
  let n = 2;
  while (taken.has(`${base}-${n}`)) n += 1;
  return `${base}-${n}`;
}

export function newShapeId(type: string, existing: Iterable<string>): string {
  return uniqueId(slug(type), existing);
}

/** The id a shape's label asks for (null: no label, or the id already says it). */
export function idFromLabel(graph: ProcessGraph, id: string): string | null {
  const node = graph.nodes.find((n) => n.id === id);
  const label = node && isObject(node.data.shape) ? node.data.shape.label : undefined;
  if (typeof label !== "string" || !label.trim()) return null;
  const base = slug(label);
  if (id === base) return null;
  const wanted = uniqueId(base, graph.nodes.filter((n) => n.id !== id).map((n) => n.id));
  return wanted === id ? null : wanted;
}
