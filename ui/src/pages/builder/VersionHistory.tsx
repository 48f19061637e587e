// The versions of a component, newest first, and the diff between two of them.
import { useEffect, useState } from "react";
import { api, errorText, query } from "../../api";
import type { VersionInfo } from "../../types";

interface Diff {
  from: number;
  to: number;
  diff: string;
}

export function VersionHistory({ componentId, latest }: { componentId: string; latest: number }) {
  const [versions, setVersions] = useState<VersionInfo[]>([]);
  const [from, setFrom] = useState(Math.max(1, latest - 1));
  const [to, setTo] = useState(latest);
  const [diff, setDiff] = useState<Diff | null>(null);
  const [error, setError] = useState("");
  const path = `/components/${encodeURIComponent(componentId)}`;

  useEffect(() => {
    api<VersionInfo[]>("GET", `${path}/versions`).then(setVersions).catch((e: unknown) => setError(errorText(e)));
  }, [path, latest]);

  async function showDiff() {
    setError("");
    try {
      setDiff(await api<Diff>("GET", `${path}/diff${query({ from, to })}`));
    } catch (e) {
      setError(errorText(e));
    }
  }

  const options = versions.map((v) => <option key={v.version} value={v.version}>{v.version}</option>);
  return (
    <div className="history">
      <table>
        <thead><tr><th>Version</th><th>Name</th><th>Saved</th></tr></thead>
        <tbody>
          {versions.map((v) => (
            <tr key={v.version}><td>{v.version}</td><td>{v.name}</td><td>{new Date(v.created_at).toLocaleString()}</td></tr>
          ))}
        </tbody>
      </table>
      <div className="diff-controls">
        {/* labels beside, not around, the drop-downs: a wrapping label's text would take in the options */}
        <label htmlFor="diff-from">From</label>{" "}
        <select id="diff-from" value={from} onChange={(e) => setFrom(Number(e.target.value))}>{options}</select>{" "}
        <label htmlFor="diff-to">To</label>{" "}
        <select id="diff-to" value={to} onChange={(e) => setTo(Number(e.target.value))}>{options}</select>
        <button type="button" onClick={showDiff} disabled={versions.length < 2}>Show Differences</button>
      </div>
      {error && <p role="alert">{error}</p>}
      {diff && (
        <pre className="diff" aria-label={`Differences between version ${diff.from} and ${diff.to}`}>
          {diff.diff.split("\n").map((line, i) => (
            <span key={i} className={lineClass(line)}>{line}{"\n"}</span>
          ))}
          {diff.diff === "" && "No differences."}
        </pre>
      )}
    </div>
  );
}

function lineClass(line: string): string | undefined {
  if (line.startsWith("+++") || line.startsWith("---") || line.startsWith("@@")) return "hunk";
  if (line.startsWith("+")) return "added";
  if (line.startsWith("-")) return "removed";
  return undefined;
}
