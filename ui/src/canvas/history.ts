// Undo/redo over whole graph snapshots (the graph is small and immutable).
import { useCallback, useState } from "react";

export interface History<T> {
  past: T[];
  present: T;
  future: T[];
}

export function record<T>(history: History<T>, next: T, checkpoint: T = history.present): History<T> {
  return { past: [...history.past, checkpoint].slice(-200), present: next, future: [] };
}

export function undo<T>(history: History<T>): History<T> {
  if (history.past.length === 0) return history;
  const previous = history.past[history.past.length - 1];
  return { past: history.past.slice(0, -1), present: previous, future: [history.present, ...history.future] };
}

export function redo<T>(history: History<T>): History<T> {
  if (history.future.length === 0) return history;
  const [next, ...rest] = history.future;
  return { past: [...history.past, history.present], present: next, future: rest };
}

export function useHistory<T>(initial: T) {
  const [history, setHistory] = useState<History<T>>({ past: [], present: initial, future: [] });
  const commit = useCallback((change: (present: T) => T) => setHistory((h) => record(h, change(h.present))), []);
  const replace = useCallback((change: (present: T) => T) => setHistory((h) => ({ ...h, present: change(h.present) })), []);
  const reset = useCallback((value: T) => setHistory({ past: [], present: value, future: [] }), []);
  return {
    history,
    setHistory,
    commit,
    replace,
    reset,
    undo: useCallback(() => setHistory(undo), []),
    redo: useCallback(() => setHistory(redo), []),
  };
}
