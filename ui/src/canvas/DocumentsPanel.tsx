// The documents that entered one shape during the last test run.
import { useEffect, useState } from "react";
import { ApiError } from "../api";
import { getDocuments, type DocumentRecord } from "./api";
import { DocumentViewer } from "./DocumentViewer";

export interface DocumentsPanelProps {
  executionId: string;
  shapeId: string;
  shapeName: string;
}

export function DocumentsPanel({ executionId, shapeId, shapeName }: DocumentsPanelProps) {
  const [docs, setDocs] = useState<DocumentRecord[] | null>(null);
  const [error, setError] = useState("");
  useEffect(() => {
    let live = true;
    setDocs(null);
    setError("");
    getDocuments(executionId, shapeId)
      .then((found) => live && setDocs(found))
      .catch((e: unknown) => live && setError(e instanceof ApiError ? e.message : String(e)));
    return () => {
      live = false;
    };
  }, [executionId, shapeId]);
  return (
    <section aria-label={`Documents of ${shapeName}`} className="canvas-documents">
      <h3>Documents</h3>
      {error && <p role="alert">{error}</p>}
      {docs === null && !error && <p>Loading documents…</p>}
      {docs !== null && docs.length === 0 && <p>No document entered this shape.</p>}
      {docs?.map((doc, i) => <DocumentViewer key={i} doc={doc} position={i + 1} />)}
    </section>
  );
}
