// The actions on a saved component besides Save: Test Connection (connections) and Delete
// (refused while other components use it: the server's message names them).
import { useState } from "react";
import { api, ApiError, errorText } from "../../api";
import type { ComponentDetail } from "../../types";

interface TestResult {
  ok: boolean;
  summary: string;
}

interface UsedBy {
  used_by?: { id: string; type: string; name: string }[];
}

export function ComponentActions({ detail, onDeleted }: { detail: ComponentDetail; onDeleted: () => void }) {
  const [result, setResult] = useState<TestResult | null>(null);
  const [message, setMessage] = useState("");
  const [confirming, setConfirming] = useState(false);
  const path = `/components/${encodeURIComponent(detail.id)}`;

  async function test() {
    setMessage("");
    setResult(null);
    try {
      setResult(await api<TestResult>("POST", `${path}/test`));
    } catch (error) {
      setMessage(errorText(error));
    }
  }

  async function remove() {
    setConfirming(false);
    try {
      await api("DELETE", path);
      onDeleted();
    } catch (error) {
      const users = error instanceof ApiError ? ((error.body ?? {}) as UsedBy).used_by ?? [] : [];
      setMessage(errorText(error) + (users.length ? ` Used by: ${users.map((u) => u.name).join(", ")}.` : ""));
    }
  }

  return (
    <div className="actions">
      {detail.type === "connection" && <button type="button" onClick={test}>Test Connection</button>}
      {!confirming && <button type="button" onClick={() => setConfirming(true)}>Delete</button>}
      {confirming && (
        <span role="group" aria-label="Confirm delete">
          Delete {detail.name}?{" "}
          <button type="button" onClick={remove}>Yes, delete</button>{" "}
          <button type="button" onClick={() => setConfirming(false)}>Keep it</button>
        </span>
      )}
      {result && <p role="status" className={result.ok ? "notice" : "error"}>{result.ok ? "Connected: " : "Failed: "}{result.summary}</p>}
      {message && <p role="alert" className="error">{message}</p>}
    </div>
  );
}
