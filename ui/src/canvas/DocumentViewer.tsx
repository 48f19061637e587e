// One document that entered a shape: its data (text, CSV as a table, JSON and XML
// pretty-printed; binary as a note) and its properties as a table. All as text.
import type { DocumentRecord } from "./api";
import { DataTable } from "./DataTable";
import { viewOf } from "./pretty";

function propertyText(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

function DataView({ doc }: { doc: DocumentRecord }) {
  if (typeof doc.data !== "string") {
    const size = Math.floor((doc.data.base64.length * 3) / 4);
    return <p>Binary data ({doc.content_type ?? "unknown type"}, about {size} bytes)</p>;
  }
  const view = viewOf(doc.data, doc.content_type);
  if (view.kind === "csv") {
    const [header = [], ...rows] = view.rows;
    return <DataTable caption="Data (CSV)" header={header} rows={rows} />;
  }
  return (
    <pre className="canvas-data" aria-label={`Data (${view.kind.toUpperCase()})`}>
      {view.text}
    </pre>
  );
}

/** One document; `position` counts from 1 in the list of documents that entered the shape. */
export function DocumentViewer({ doc, position }: { doc: DocumentRecord; position: number }) {
  const properties = Object.entries(doc.properties ?? {}).map(([k, v]) => [k, propertyText(v)]);
  const dynamic = Object.entries(doc.dynamic ?? {}).map(([k, v]) => [k, propertyText(v)]);
  return (
    <article aria-label={`Document ${position}`} className="canvas-document">
      <h4>Document {position}</h4>
      <DataView doc={doc} />
      {properties.length > 0 ? (
        <DataTable caption="Properties" header={["Property", "Value"]} rows={properties} />
      ) : (
        <p>No properties</p>
      )}
      {dynamic.length > 0 && (
        <DataTable caption="Dynamic document properties" header={["Property", "Value"]} rows={dynamic} />
      )}
    </article>
  );
}
