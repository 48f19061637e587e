// The filters of Process Reporting: process, status, trigger and a time range.
import { useEffect, useState } from "react";
import { api } from "../../api";
import type { ComponentSummary } from "../../types";

export const FILTER_KEYS = ["process", "status", "trigger", "since", "until"] as const;
const STATUSES = ["running", "complete", "complete_with_errors", "failed", "stopped"];
const TRIGGERS = ["manual", "api", "listener", "schedule"];

type Values = Record<string, string>;

export function Filters({ values, onChange }: { values: Values; onChange: (values: Values) => void }) {
  const [processes, setProcesses] = useState<ComponentSummary[]>([]);
  useEffect(() => {
    api<ComponentSummary[]>("GET", "/components?type=process&body=false").then(setProcesses).catch(() => setProcesses([]));
  }, []);
  const set = (key: string, value: string) => onChange({ ...values, [key]: value });

  return (
    <form className="filters" aria-label="Filters" onSubmit={(e) => e.preventDefault()}>
      <label>Process{" "}
        <select value={values.process} onChange={(e) => set("process", e.target.value)}>
          <option value="">All processes</option>
          {processes.map((p) => <option key={p.id} value={p.id}>{p.name}</option>)}
        </select>
      </label>
      <label>Status{" "}
        <select value={values.status} onChange={(e) => set("status", e.target.value)}>
          <option value="">Any status</option>
          {STATUSES.map((s) => <option key={s} value={s}>{s.replace(/_/g, " ")}</option>)}
        </select>
      </label>
      <label>Trigger{" "}
        <select value={values.trigger} onChange={(e) => set("trigger", e.target.value)}>
          <option value="">Any trigger</option>
          {TRIGGERS.map((t) => <option key={t} value={t}>{t}</option>)}
        </select>
      </label>
      <label>From{" "}
        <input type="datetime-local" value={toLocal(values.since)} onChange={(e) => set("since", toIso(e.target.value))} />
      </label>
      <label>To{" "}
        <input type="datetime-local" value={toLocal(values.until)} onChange={(e) => set("until", toIso(e.target.value))} />
      </label>
    </form>
  );
}

function toIso(local: string): string {
  return local ? new Date(local).toISOString() : "";
}

function toLocal(iso: string): string {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}
