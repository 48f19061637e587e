// The shapes of an execution with their counts; a shape's kept documents on demand.
import { useState } from "react";
import { api, errorText, query } from "../../api";
import type { KeptDocument, ShapeState } from "./types";

interface Props {
  executionId: string;
  shapes: Record<string, ShapeState>;
}

export function ShapeDocuments({ executionId, shapes }: Props) {
  const [shape, setShape] = useState<string | null>(null);
  const [documents, setDocuments] = useState<KeptDocument[]>([]);
  const [error, setError] = useState("");

  async function open(id: string) {
    setShape(id);
    setError("");
    try {
      setDocuments(await api<KeptDocument[]>("GET",
        `/executions/${encodeURIComponent(executionId)}/documents${query({ shape: id })}`));
    } catch (e) {
      setDocuments([]);
      setError(errorText(e));
    }
  }

  return (
    <div className="shapes">
      <h3>Shapes</h3>
      <table aria-label="Shapes">
        <thead><tr><th>Shape</th><th>Status</th><th>In</th><th>Out</th><th>Failed</th><th /></tr></thead>
        <tbody>
          {Object.entries(shapes).map(([id, s]) => (
            <tr key={id}>
              <td>{id}</td><td>{s.status}</td><td>{s.documents_in}</td><td>{s.documents_out}</td><td>{s.documents_failed}</td>
              <td><button type="button" onClick={() => open(id)}>Documents of {id}</button></td>
            </tr>
          ))}
        </tbody>
      </table>
      {shape && (
        <div aria-label={`Documents of ${shape}`} role="region">
          {error && <p role="alert">{error}</p>}
          {!error && documents.length === 0 && <p>No documents kept for {shape} (only test runs keep them).</p>}
          {documents.map((d) => (
            <details key={d.index} open={documents.length < 4}>
              <summary>Document {d.index} {d.content_type ? `(${d.content_type})` : ""}</summary>
              <pre>{typeof d.data === "string" ? d.data : `(binary, ${d.data.base64.length} base64 characters)`}</pre>
              {d.properties && Object.keys(d.properties).length > 0 && (
                <pre aria-label="Properties">{JSON.stringify(d.properties, null, 2)}</pre>
              )}
            </details>
          ))}
        </div>
      )}
    </div>
  );
}
