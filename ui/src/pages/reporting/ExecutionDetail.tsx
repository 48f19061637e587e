// One execution: its counts, errors per document, the letters that bounced later, its chunks
// on the workers, log, the documents kept per shape (test runs) and Re-run failed documents.
import { useEffect, useState } from "react";
import { useNavigate } from "react-router-dom";
import { api, errorText } from "../../api";
import type { User } from "../../types";
import { canEdit } from "../../types";
import { BouncesTable, ChunksTable } from "./LaterTables";
import { ShapeDocuments } from "./ShapeDocuments";
import { duration, statusText, when, type ExecutionDetail, type LogLine } from "./types";

export function ExecutionDetailView({ executionId, user }: { executionId: string; user: User }) {
  const [detail, setDetail] = useState<ExecutionDetail | null>(null);
  const [log, setLog] = useState<LogLine[]>([]);
  const [error, setError] = useState("");
  const navigate = useNavigate();
  const path = `/executions/${encodeURIComponent(executionId)}`;

  useEffect(() => {
    api<ExecutionDetail>("GET", path)
      .then((d) => { setDetail(d); if (d.log) setLog(d.log); })
      .catch((e: unknown) => setError(errorText(e)));
    api<LogLine[]>("GET", `${path}/log`).then(setLog).catch(() => undefined);
  }, [path]);

  async function rerun() {
    try {
      const { execution_id } = await api<{ execution_id: string }>("POST", `${path}/rerun`);
      navigate(`/reporting/${encodeURIComponent(execution_id)}`);
    } catch (e) {
      setError(errorText(e));
    }
  }

  if (error) return <section aria-label="Execution"><p role="alert">{error}</p></section>;
  if (!detail) return <p>Loading…</p>;
  return (
    <section className="execution" aria-label={`Execution ${detail.id}`}>
      <h2>{detail.process_name ?? detail.process_id} · {statusText(detail.status)}</h2>
      <p>Started {when(detail.started_at)} · {duration(detail)} · trigger {detail.trigger ?? "-"} · {detail.documents_in} in,
        {" "}{detail.documents_out} out, {detail.documents_failed} failed</p>
      {detail.error && <p className="error">{detail.error}</p>}
      {canEdit(user) && detail.documents_failed > 0 && (
        <button type="button" onClick={rerun}>Re-run failed documents</button>
      )}
      <h3>Errors</h3>
      {detail.errors.length === 0 ? <p>No document errors.</p> : (
        <table aria-label="Errors">
          <thead><tr><th>Shape</th><th>Document</th><th>Error</th></tr></thead>
          <tbody>
            {detail.errors.map((e, i) => (
              <tr key={i}><td>{e.shape ?? ""}</td><td>{e.document ?? ""}</td><td>{e.message}</td></tr>
            ))}
          </tbody>
        </table>
      )}
      <BouncesTable bounces={detail.bounces ?? []} />
      <ChunksTable chunks={detail.chunks ?? []} />
      {detail.shapes && Object.keys(detail.shapes).length > 0 && (
        <ShapeDocuments executionId={executionId} shapes={detail.shapes} />
      )}
      <h3>Log</h3>
      <pre className="log" aria-label="Process log">
        {log.map((l) => `${l.time} ${l.level} ${l.shape ?? "-"} ${l.message}`).join("\n")}
      </pre>
    </section>
  );
}
