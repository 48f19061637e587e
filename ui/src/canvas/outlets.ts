// Outlets: the keys of a shape that link to other shapes. GET /api/shapes names them per
// type ("next"; "true", "false"; "branches"; "cases[].next" + "default"; "try", "catch").
// An edge stores its outlet as a path into the shape: "next", "branches[1]", "cases[0]".

/** The outlets of the first-release shapes, used when the server has not said. */
export const DEFAULT_OUTLETS: Record<string, string[]> = {
  start: ["next"],
  message: ["next"],
  set_properties: ["next"],
  data_process: ["next"],
  decision: ["true", "false"],
  branch: ["branches"],
  route: ["cases[].next", "default"],
  connector: ["next"],
  notify: ["next"],
  exception: [],
  try_catch: ["try", "catch"],
  stop: [],
  map: ["next"],
  process_call: ["next"],
  return_documents: [],
  flow_control: ["next"],
};

export type OutletSpec =
  | { kind: "single"; key: string }
  | { kind: "list"; key: string }
  | { kind: "objects"; key: string; field: string };

/** "next" → single; "branches" → a list of shape ids; "cases[].next" → a list of objects. */
export function parseOutlet(name: string): OutletSpec {
  const objects = /^(\w+)\[\]\.(\w+)$/.exec(name);
  if (objects) return { kind: "objects", key: objects[1], field: objects[2] };
  if (name === "cases") return { kind: "objects", key: name, field: "next" };
  const list = /^(\w+)\[\]$/.exec(name);
  if (list) return { kind: "list", key: list[1] };
  if (name === "branches") return { kind: "list", key: name };
  return { kind: "single", key: name };
}

export type OutletTable = Record<string, string[]>;

export function outletSpecs(table: OutletTable, type: string): OutletSpec[] {
  return (table[type] ?? DEFAULT_OUTLETS[type] ?? ["next"]).map(parseOutlet);
}

/** The top-level keys of a shape that are outlets (never edited in the form). */
export function outletKeys(table: OutletTable, type: string): string[] {
  return outletSpecs(table, type).map((spec) => spec.key);
}

const INDEXED = /^(\w+)\[(\d+)\]$/;

/** The React Flow handle id of an outlet path: "branches[0]" → "branch 1". */
export function handleOf(outlet: string): string {
  const match = INDEXED.exec(outlet);
  if (!match) return outlet;
  const n = Number(match[2]) + 1;
  if (match[1] === "branches") return `branch ${n}`;
  if (match[1] === "cases") return `case ${n}`;
  return `${match[1]} ${n}`;
}

/** The outlet path of a handle id: "case 2" → "cases[1]". */
export function outletOf(handle: string): string {
  const match = /^(branch|case) (\d+)$/.exec(handle);
  if (!match) return handle;
  const key = match[1] === "branch" ? "branches" : "cases";
  return `${key}[${Number(match[2]) - 1}]`;
}

export function indexedOutlet(outlet: string): { key: string; index: number } | null {
  const match = INDEXED.exec(outlet);
  return match ? { key: match[1], index: Number(match[2]) } : null;
}
