// One shape on the canvas: its name (label or type), its type's title, the start mark,
// validation badge, test status, one target handle and a named handle per outlet.
import { Handle, Position, type NodeProps } from "@xyflow/react";
import { useContext } from "react";
import type { ShapeProgress } from "./api";
import { CanvasContext } from "./CanvasContext";
import type { ShapeNode as ShapeNodeType } from "./types";

export function shapeName(shape: Record<string, unknown>): string {
  const label = typeof shape.label === "string" ? shape.label.trim() : "";
  return label || String(shape.type ?? "shape");
}

function countsText(progress: ShapeProgress | undefined): string {
  if (!progress || progress.documents_in === undefined) return "";
  const failed = progress.documents_failed ? `, ${progress.documents_failed} failed` : "";
  return ` · ${progress.documents_in} in, ${progress.documents_out ?? 0} out${failed}`;
}

export function ShapeNode({ id, data }: NodeProps<ShapeNodeType>) {
  const { infos, handles, start, status, counts, problems } = useContext(CanvasContext);
  const type = String(data.shape.type ?? "");
  const outlets = handles[id] ?? [];
  const found = problems[id] ?? [];
  const state = status[id];
  return (
    <div className="canvas-node" data-status={state ?? "idle"} data-testid={`shape-${id}`}>
      <Handle type="target" position={Position.Left} id="in" data-testid={`handle-${id}-in`} />
      <div className="canvas-node-name">{shapeName(data.shape)}</div>
      <div className="canvas-node-type">
        {infos[type]?.title ?? type}
        {!data.shape.label && id !== type && <span className="canvas-node-id"> · {id}</span>}
      </div>
      {start === id && <div className="canvas-node-start">Start shape</div>}
      {found.length > 0 && (
        <div className="canvas-node-badge" title={found.join("\n")}>
          {found.length} {found.length === 1 ? "problem" : "problems"}
        </div>
      )}
      {state && <div className="canvas-node-status">{state}{countsText(counts[id])}</div>}
      {outlets.map((handle, i) => (
        <Handle
          key={handle}
          type="source"
          position={Position.Right}
          id={handle}
          data-testid={`handle-${id}-${handle}`}
          title={handle}
          style={{ top: `${((i + 1) * 100) / (outlets.length + 1)}%` }}
        >
          {handle !== "next" && <span className="canvas-handle-name">{handle}</span>}
        </Handle>
      ))}
    </div>
  );
}
