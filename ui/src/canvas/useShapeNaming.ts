// Shapes dropped in this editor start with their type's id (message-2); once labelled, they
// take the label's id (send-the-letter) when the user leaves them or saves, once: a shape
// that came with the process, or was named already, keeps its id.
import { useRef } from "react";
import { renameShape } from "./graphOps";
import { idFromLabel } from "./ids";
import type { ProcessGraph } from "./types";

type Change = (change: (g: ProcessGraph) => ProcessGraph) => void;

/** The renames a graph's fresh, labelled shapes ask for (old id -> new id). */
export function labelRenames(graph: ProcessGraph, fresh: Iterable<string>): Map<string, string> {
  let current = graph;
  const renames = new Map<string, string>();
  for (const id of fresh) {
    const wanted = idFromLabel(current, id);
    if (wanted === null) continue;
    current = renameShape(current, id, wanted);
    renames.set(id, wanted);
  }
  return renames;
}

export function applyRenames(graph: ProcessGraph, renames: Map<string, string>): ProcessGraph {
  let current = graph;
  renames.forEach((to, from) => (current = renameShape(current, from, to)));
  return current;
}

export function useShapeNaming(graph: ProcessGraph, replace: Change, selected: string | null, setSelected: (id: string | null) => void) {
  const fresh = useRef(new Set<string>());
  const markFresh = (id: string) => fresh.current.add(id);

  /** Rename the given fresh shapes that have a label; answers the renames and the graph after. */
  const name = (ids: string[]) => {
    const renames = labelRenames(graph, ids.filter((id) => fresh.current.has(id)));
    if (renames.size === 0) return { renames, graph };
    renames.forEach((_to, from) => fresh.current.delete(from));
    replace((g) => applyRenames(g, renames));
    return { renames, graph: applyRenames(graph, renames) };
  };

  /** Select another shape (or none); the one left takes its label's id. */
  const select = (next: string | null) => {
    if (selected !== null && next !== selected) name([selected]);
    setSelected(next);
  };

  /** Before a save: every fresh, labelled shape takes its label's id. */
  const nameAll = (): ProcessGraph => {
    const named = name([...fresh.current]);
    const moved = selected === null ? undefined : named.renames.get(selected);
    if (moved !== undefined) setSelected(moved);
    return named.graph;
  };

  return { markFresh, select, nameAll };
}
