// What the shape nodes need beyond their data: titles, handles, start, status, problems.
import { createContext } from "react";
import type { ShapeProgress } from "./api";
import type { RunStatus, ShapeInfo } from "./types";

export interface CanvasDecorations {
  infos: Record<string, ShapeInfo>;
  handles: Record<string, string[]>;
  start: string | null;
  status: Record<string, RunStatus>;
  counts: Record<string, ShapeProgress>;
  problems: Record<string, string[]>;
}

export const CanvasContext = createContext<CanvasDecorations>({
  infos: {}, handles: {}, start: null, status: {}, counts: {}, problems: {},
});
