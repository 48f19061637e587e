// Every shape type, to drag onto the canvas (HTML5 drag and drop) or to add by click/Enter.
import type { DragEvent } from "react";
import type { ShapeInfo } from "./types";

export const SHAPE_MIME = "application/x-postroom-shape";

export interface PaletteProps {
  shapes: ShapeInfo[];
  onAdd: (type: string) => void;
}

function startDrag(event: DragEvent<HTMLButtonElement>, type: string): void {
  event.dataTransfer.setData(SHAPE_MIME, type);
  event.dataTransfer.setData("text/plain", type);
  event.dataTransfer.effectAllowed = "copy";
}

export function Palette({ shapes, onAdd }: PaletteProps) {
  return (
    <nav aria-label="Shapes" className="canvas-palette">
      <h3>Shapes</h3>
      <ul>
        {shapes.map((info) => (
          <li key={info.type}>
            <button
              type="button"
              draggable
              data-testid={`palette-${info.type}`}
              onDragStart={(e) => startDrag(e, info.type)}
              onClick={() => onAdd(info.type)}
            >
              {info.title}
            </button>
          </li>
        ))}
      </ul>
    </nav>
  );
}
