// The editor's tabs: the settings (Connection for a connection, Options for an operation,
// Definition for the rest) and the Version History once saved.
import { lazy, Suspense, useState } from "react";
import { YamlBodyEditor } from "../../forms/YamlBodyEditor";
import type { Body, JsonSchema } from "../../types";
import type { EditorState } from "./useEditor";
import { MapForm } from "./MapForm";
import { VersionHistory } from "./VersionHistory";

// the form library (@rjsf and its validator) loads when a settings form is first shown
const SettingsForm = lazy(() => import("../../forms/SettingsForm").then((m) => ({ default: m.SettingsForm })));

interface Props {
  type: string;
  schema: JsonSchema | null;
  state: EditorState;
  readOnly: boolean;
  edit: (change: (draft: Body) => Body) => void;
  setPending: (field: string, value: string) => void;
}

function settingsTab(type: string): string {
  if (type === "connection") return "Connection";
  if (type === "operation") return "Options";
  return "Definition";
}

export function EditorTabs(props: Props) {
  const first = settingsTab(props.type);
  // a map has a form for its mappings before its YAML
  const settings = props.type === "map" ? ["Mappings", first] : [first];
  const tabs = props.state.detail ? [...settings, "Version History"] : settings;
  const [selected, setSelected] = useState(settings[0]);
  const current = tabs.includes(selected) ? selected : settings[0];
  return (
    <div className="tabs">
      <div role="tablist" aria-label="Component">
        {tabs.map((tab) => (
          <button key={tab} type="button" role="tab" id={`tab-${tab}`} aria-selected={tab === current}
                  aria-controls={`panel-${tab}`} onClick={() => setSelected(tab)}>{tab}</button>
        ))}
      </div>
      <div role="tabpanel" id={`panel-${current}`} aria-labelledby={`tab-${current}`}>
        {current === "Version History" && props.state.detail
          ? <VersionHistory componentId={props.state.detail.id} latest={props.state.detail.version} />
          : current === "Mappings"
            ? <MapForm draft={props.state.draft} errors={props.state.errors} readOnly={props.readOnly} onChange={(d) => props.edit(() => d)} />
            : <SettingsPanel {...props} />}
      </div>
    </div>
  );
}

function SettingsPanel({ schema, state, readOnly, edit, setPending, type }: Props) {
  if ((type === "connection" || type === "operation") && !schema) {
    return <p>Loading the connector's fields…</p>;
  }
  if (schema) {
    return (
      <Suspense fallback={<p>Loading the form…</p>}>
        <SettingsForm
          schema={schema}
          data={(state.draft.settings ?? {}) as Record<string, unknown>}
          onChange={(settings) => edit((d) => ({ ...d, settings }))}
          errors={state.errors}
          readOnly={readOnly}
          secrets={{ status: state.detail?.secrets ?? {}, pending: state.pending, setPending, readOnly }}
        />
      </Suspense>
    );
  }
  return <YamlBodyEditor draft={state.draft} errors={state.errors} readOnly={readOnly} onChange={(d) => edit(() => d)} />;
}
