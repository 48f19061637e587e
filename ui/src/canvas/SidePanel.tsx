// The selected shape: its form, its connections, its problems and (after Test) the
// documents that entered it.
import { PickerScope } from "./ComponentPicker";
import { DocumentsPanel } from "./DocumentsPanel";
import { OutletPicker } from "./OutletPicker";
import { ShapeForm } from "./ShapeForm";
import { shapeName } from "./ShapeNode";
import type { JsonObject, ShapeInfo } from "./types";
import type { FieldErrors } from "./validation";

export interface SidePanelProps {
  shapeId: string;
  shape: JsonObject;
  info: ShapeInfo | undefined;
  isStart: boolean;
  handles: string[];
  targets: Record<string, string>;
  shapes: { id: string; name: string }[];
  problems: string[];
  executionId: string | null;
  readOnly: boolean;
  fieldErrors?: FieldErrors;
  onChange: (shape: JsonObject) => void;
  onConnect: (handle: string, target: string | null) => void;
  onMakeStart: () => void;
  onDelete: () => void;
}

export function SidePanel(props: SidePanelProps) {
  const name = shapeName(props.shape);
  return (
    <aside aria-label="Shape settings" className="canvas-side">
      <h3>{name}</h3>
      <p>
        Shape id <code>{props.shapeId}</code>, type {props.info?.title ?? String(props.shape.type)}
        {props.isStart && " (start shape)"}
      </p>
      {!props.readOnly && !props.isStart && <button type="button" onClick={props.onMakeStart}>Make start shape</button>}
      {!props.readOnly && <button type="button" onClick={props.onDelete}>Delete shape</button>}
      {props.problems.length > 0 && (
        <ul aria-label="Problems" className="canvas-problems">
          {props.problems.map((p, i) => <li key={i}>{p}</li>)}
        </ul>
      )}
      {props.info ? (
        <PickerScope key={props.shapeId} shape={props.shape}>
          <ShapeForm shapeId={props.shapeId} info={props.info} shape={props.shape} onChange={props.onChange} readOnly={props.readOnly}
            fieldErrors={props.fieldErrors} />
        </PickerScope>
      ) : (
        <p>Unknown shape type {String(props.shape.type)}: its settings are kept as they are.</p>
      )}
      <OutletPicker handles={props.handles} targets={props.targets} shapes={props.shapes} onPick={props.onConnect} readOnly={props.readOnly} />
      {props.executionId && <DocumentsPanel executionId={props.executionId} shapeId={props.shapeId} shapeName={name} />}
    </aside>
  );
}
