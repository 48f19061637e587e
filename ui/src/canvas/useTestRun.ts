// Test: run the saved process in test mode and follow its events, shape by shape.
import { useCallback, useEffect, useRef, useState } from "react";
import { ApiError } from "../api";
import { executionEvents, getExecution, getLog, runTest, type ExecutionProgress, type LogLine, type ShapeProgress } from "./api";
import type { RunStatus } from "./types";

export interface TestRun {
  executionId: string | null;
  status: Record<string, RunStatus>;
  counts: Record<string, ShapeProgress>;
  execution: ExecutionProgress | null;
  finished: boolean;
  log: LogLine[];
  error: string;
}

const IDLE: TestRun = { executionId: null, status: {}, counts: {}, execution: null, finished: false, log: [], error: "" };

function parse<T>(event: Event): T | null {
  try {
    return JSON.parse((event as MessageEvent<string>).data) as T;
  } catch {
    return null;
  }
}

export function useTestRun() {
  const [run, setRun] = useState<TestRun>(IDLE);
  const source = useRef<EventSource | null>(null);
  const close = () => {
    source.current?.close();
    source.current = null;
  };
  useEffect(() => close, []);

  const finish = useCallback(async (executionId: string, fromDetail: boolean) => {
    close();
    let detail: Partial<TestRun> = {};
    if (fromDetail) {
      const found = await getExecution(executionId).catch(() => null);
      const status: Record<string, RunStatus> = {};
      const counts: Record<string, ShapeProgress> = {};
      Object.entries(found?.shapes ?? {}).forEach(([id, s]) => {
        status[id] = s.status;
        counts[id] = { ...s, shape: id };
      });
      detail = found ? { execution: found, status, counts } : {};
    }
    const log = await getLog(executionId).catch(() => [] as LogLine[]);
    setRun((r) => (r.executionId === executionId ? { ...r, ...detail, log, finished: true } : r));
  }, []);

  const follow = useCallback((executionId: string) => {
    const events = executionEvents(executionId);
    source.current = events;
    events.addEventListener("shape", (event) => {
      const p = parse<ShapeProgress>(event);
      if (p) setRun((r) => ({ ...r, status: { ...r.status, [p.shape]: p.status }, counts: { ...r.counts, [p.shape]: p } }));
    });
    events.addEventListener("execution", (event) => {
      const p = parse<ExecutionProgress>(event);
      if (!p) return;
      setRun((r) => ({ ...r, execution: p }));
      if (p.status !== "running") void finish(executionId, false);
    });
    // While CONNECTING the browser retries by itself (the server replays the final state);
    // a stream refused for good ends the follow with the execution's recorded state.
    events.onerror = () => {
      if (source.current === events && events.readyState === EventSource.CLOSED) void finish(executionId, true);
    };
  }, [finish]);

  const start = useCallback(async (processId: string) => {
    close();
    setRun({ ...IDLE });
    try {
      const { execution_id } = await runTest(processId);
      setRun({ ...IDLE, executionId: execution_id, execution: { status: "running" } });
      follow(execution_id);
    } catch (e) {
      setRun({ ...IDLE, error: e instanceof ApiError ? e.message : String(e) });
    }
  }, [follow]);

  return { run, start };
}
