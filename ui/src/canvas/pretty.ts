// Document data for the viewer: CSV rows, pretty JSON, pretty XML. Pure text in and out;
// the viewer renders the results as text nodes only.

export type DataView =
  | { kind: "csv"; rows: string[][] }
  | { kind: "json"; text: string }
  | { kind: "xml"; text: string }
  | { kind: "text"; text: string };

/** RFC 4180 CSV: quoted fields with "" for a quote, CRLF or LF line ends. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i += 1; }
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") { row.push(field); field = ""; }
    else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i += 1;
      row.push(field); rows.push(row); row = []; field = "";
    } else field += c;
  }
  if (field !== "" || row.length > 0) { row.push(field); rows.push(row); }
  return rows;
}

export function prettyJson(text: string): string | null {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return null;
  }
}

function xmlNode(node: Node, depth: number, out: string[]): void {
  const pad = "  ".repeat(depth);
  if (node.nodeType === Node.TEXT_NODE || node.nodeType === Node.CDATA_SECTION_NODE) {
    const text = (node.textContent ?? "").trim();
    if (text) out.push(pad + new XMLSerializer().serializeToString(node).trim());
    return;
  }
  if (node.nodeType !== Node.ELEMENT_NODE) {
    out.push(pad + new XMLSerializer().serializeToString(node));
    return;
  }
  const element = node as Element;
  const shallow = element.cloneNode(false) as Element;
  const tags = new XMLSerializer().serializeToString(shallow);
  const children = Array.from(element.childNodes).filter((c) => c.nodeType !== Node.TEXT_NODE || (c.textContent ?? "").trim());
  if (children.length === 0) { out.push(pad + tags); return; }
  const open = tags.endsWith("/>") ? `${tags.slice(0, -2)}>` : tags.slice(0, tags.lastIndexOf("</"));
  const close = `</${element.tagName}>`;
  if (children.length === 1 && children[0].nodeType === Node.TEXT_NODE) {
    out.push(pad + open + new XMLSerializer().serializeToString(children[0]).trim() + close);
    return;
  }
  out.push(pad + open);
  children.forEach((c) => xmlNode(c, depth + 1, out));
  out.push(pad + close);
}

export function prettyXml(text: string): string | null {
  const doc = new DOMParser().parseFromString(text, "application/xml");
  if (doc.getElementsByTagName("parsererror").length > 0) return null;
  const out: string[] = [];
  const declaration = /^\s*(<\?xml[^>]*\?>)/.exec(text);
  if (declaration) out.push(declaration[1]);
  Array.from(doc.childNodes).forEach((c) => xmlNode(c, 0, out));
  return out.join("\n");
}

export function viewOf(text: string, contentType: string | null | undefined): DataView {
  const type = (contentType ?? "").split(";")[0].trim().toLowerCase();
  if (type === "text/csv" || type === "application/csv") return { kind: "csv", rows: parseCsv(text) };
  const looksJson = type.endsWith("json") || (!type.includes("xml") && /^\s*[[{]/.test(text));
  if (looksJson) {
    const json = prettyJson(text);
    if (json !== null) return { kind: "json", text: json };
  }
  const looksXml = type.endsWith("xml") || /^\s*</.test(text);
  if (looksXml) {
    const xml = prettyXml(text);
    if (xml !== null) return { kind: "xml", text: xml };
  }
  return { kind: "text", text };
}
