// New shape ids: a slug of the type, made unique with a counter (message, message_2, ...).

export function slug(text: string): string {
  const cleaned = text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "");
  return cleaned || "shape";
}

export function newShapeId(type: string, existing: Iterable<string>): string {
  const taken = new Set(existing);
  const base = slug(type);
  if (!taken.has(base)) return base;
  let n = 2;
  while (taken.has(`${base}_${n}`)) n += 1;
  return `${base}_${n}`;
}
