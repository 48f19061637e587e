// Process Reporting: the executions with filters (in the URL, so a link keeps them), the
// CSV export of the same filters, and the detail of one execution.
import { useEffect, useState } from "react";
import { Link, useParams, useSearchParams } from "react-router-dom";
import { api, errorText, query } from "../../api";
import type { User } from "../../types";
import { ExecutionDetailView } from "./ExecutionDetail";
import { Filters, FILTER_KEYS } from "./Filters";
import { duration, statusText, when, type Execution } from "./types";

export function ProcessReporting({ user }: { user: User }) {
  const { executionId } = useParams();
  const [search, setSearch] = useSearchParams();
  const filters = Object.fromEntries(FILTER_KEYS.map((key) => [key, search.get(key) ?? ""]));
  const qs = query(filters);
  const [rows, setRows] = useState<Execution[] | null>(null);
  const [error, setError] = useState("");

  useEffect(() => {
    // filters changed quickly: an older answer arriving after the newer one must not show
    let current = true;
    setError("");
    api<Execution[]>("GET", `/executions${qs}`)
      .then((found) => { if (current) setRows(found); })
      .catch((e: unknown) => { if (current) setError(errorText(e)); });
    return () => { current = false; };
  }, [qs]);

  return (
    <main className="page reporting">
      <h1>Process Reporting</h1>
      <Filters values={filters} onChange={(values) => setSearch(query(values))} />
      <p><a href={`/api/executions.csv${qs}`} download>Export as CSV</a></p>
      {error && <p role="alert">{error}</p>}
      {rows && <ExecutionTable rows={rows} qs={qs} />}
      {executionId && <ExecutionDetailView key={executionId} executionId={executionId} user={user} />}
    </main>
  );
}

function ExecutionTable({ rows, qs }: { rows: Execution[]; qs: string }) {
  if (rows.length === 0) return <p>No executions match.</p>;
  return (
    <table aria-label="Executions">
      <thead>
        <tr>
          <th>Status</th><th>Process</th><th>Started</th><th>Duration</th>
          <th>In</th><th>Out</th><th>Failed</th><th>Trigger</th><th>Mode</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((e) => (
          <tr key={e.id}>
            <td className={`status status-${e.status}`}>{statusText(e.status)}</td>
            <td><Link to={`/reporting/${encodeURIComponent(e.id)}${qs}`}>{e.process_name ?? e.process_id}</Link></td>
            <td>{when(e.started_at)}</td>
            <td>{duration(e)}</td>
            <td>{e.documents_in}</td><td>{e.documents_out}</td><td>{e.documents_failed}</td>
            <td>{e.trigger ?? ""}</td><td>{e.mode}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
