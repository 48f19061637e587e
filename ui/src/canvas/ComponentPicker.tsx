// Drop-downs for the shape settings that name a component by id (a connector shape's
// Connection and Operation, a start shape's in connector mode, a Map shape's map, a Process
// Call's process, a profile): they list the components of that type by name and store the id.
// As in Boomi, the connection comes with a Connector choice and the operation with an Action.
import type { WidgetProps } from "@rjsf/utils";
import { createContext, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { api, errorText } from "../api";
import type { ComponentSummary, Connector } from "../types";
import { isObject } from "./convert";
import type { JsonObject } from "./types";

interface Listed extends ComponentSummary {
  body?: JsonObject;
}

interface PickerData {
  components: Listed[];
  operations: Listed[];
  connectors: Connector[];
  error: string;
  loaded: boolean;
}

interface Scope extends PickerData {
  shape: JsonObject;
  connector: string;
  setConnector: (name: string) => void;
  action: string;
  setAction: (action: string) => void;
}

const EMPTY: PickerData = { components: [], operations: [], connectors: [], error: "", loaded: false };
const PickerContext = createContext<Scope | null>(null);

async function loadPickerData(): Promise<PickerData> {
  const [components, operations, connectors] = await Promise.all([
    api<Listed[]>("GET", "/components?body=false"),
    api<Listed[]>("GET", "/components?type=operation&body=true"),
    api<Connector[]>("GET", "/connectors"),
  ]);
  return { components, operations, connectors, error: "", loaded: true };
}

function actionOf(operation: Listed | undefined): string {
  const settings = operation?.body && isObject(operation.body.settings) ? operation.body.settings : {};
  return typeof settings.action === "string" ? settings.action : "";
}

/** The components the selected shape's pickers choose from, and their Connector and Action choices. */
export function PickerScope({ shape, children }: { shape: JsonObject; children: ReactNode }) {
  const [data, setData] = useState<PickerData>(EMPTY);
  const [chosenConnector, setConnector] = useState<string | null>(null);
  const [chosenAction, setAction] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    loadPickerData()
      .then((loaded) => live && setData(loaded))
      .catch((e: unknown) => live && setData({ ...EMPTY, loaded: true, error: errorText(e) }));
    return () => {
      live = false;
    };
  }, []);
  const operation = data.operations.find((o) => o.id === shape.operation);
  const connection = data.components.find((c) => c.type === "connection" && c.id === shape.connection);
  // until chosen here, the connector and action are those of what the shape already names
  const connector = chosenConnector ?? connection?.connector ?? operation?.connector ?? "";
  const action = chosenAction ?? actionOf(operation);
  const scope: Scope = { ...data, shape, connector, setConnector, action, setAction };
  return <PickerContext.Provider value={scope}>{children}</PickerContext.Provider>;
}

function usePicker(): Scope {
  const scope = useContext(PickerContext);
  return scope ?? { ...EMPTY, shape: {}, connector: "", setConnector: () => {}, action: "", setAction: () => {} };
}

interface Choice {
  id: string;
  name: string;
}

/** The drop-down itself: the components by name, the id stored; an id that names none is kept and said so. */
function IdSelect({ props, choices, what }: { props: WidgetProps; choices: Choice[]; what: string }) {
  const value = typeof props.value === "string" ? props.value : "";
  const { loaded } = usePicker();
  const known = choices.some((c) => c.id === value);
  const named = new Map<string, number>();
  choices.forEach((c) => named.set(c.name, (named.get(c.name) ?? 0) + 1));
  return (
    <select
      id={props.id}
      value={value}
      required={props.required}
      disabled={props.disabled || props.readonly}
      aria-describedby={`${props.id}__error ${props.id}__description`}
      onChange={(e) => props.onChange(e.target.value === "" ? undefined : e.target.value)}
    >
      <option value="">{choices.length === 0 && loaded ? `(no ${what} yet: create one under Build)` : `(choose ${what})`}</option>
      {choices.map((c) => (
        <option key={c.id} value={c.id}>{(named.get(c.name) ?? 0) > 1 ? `${c.name} (${c.id})` : c.name}</option>
      ))}
      {value && !known && <option value={value}>{loaded ? `${value} (not found)` : value}</option>}
    </select>
  );
}

function ConnectorChoice({ idPrefix, disabled }: { idPrefix: string; disabled: boolean }) {
  const { connectors, connector, setConnector } = usePicker();
  const id = `${idPrefix}__connector`;
  return (
    <div className="picker-extra">
      <label htmlFor={id}>Connector</label>
      <select id={id} value={connector} disabled={disabled} onChange={(e) => setConnector(e.target.value)}>
        <option value="">(any connector)</option>
        {connectors.map((c) => <option key={c.name} value={c.name}>{c.title}</option>)}
        {connector && !connectors.some((c) => c.name === connector) && <option value={connector}>{connector}</option>}
      </select>
    </div>
  );
}

/** The Action choices of a connector's operations: its schema's action enum with their labels. */
export function actionChoices(connector: Connector | undefined): { value: string; title: string }[] {
  const action = connector?.operation_schema?.properties?.action;
  if (!action || !Array.isArray(action.enum)) return [];
  const titles = Array.isArray(action["x-enumNames"]) ? (action["x-enumNames"] as unknown[]) : [];
  return (action.enum as unknown[]).map((value, i) => ({
    value: String(value),
    title: typeof titles[i] === "string" ? (titles[i] as string) : String(value).replace(/^./, (ch) => ch.toUpperCase()),
  }));
}

function ActionChoice({ idPrefix, disabled }: { idPrefix: string; disabled: boolean }) {
  const { connectors, connector, action, setAction } = usePicker();
  const choices = actionChoices(connectors.find((c) => c.name === connector));
  if (choices.length === 0) return null;
  const id = `${idPrefix}__action`;
  return (
    <div className="picker-extra">
      <label htmlFor={id}>Action</label>
      <select id={id} value={action} disabled={disabled} onChange={(e) => setAction(e.target.value)}>
        <option value="">(any action)</option>
        {choices.map((c) => <option key={c.value} value={c.value}>{c.title}</option>)}
      </select>
    </div>
  );
}

function ErrorNote() {
  const { error } = usePicker();
  return error ? <p role="alert" className="field-error">The components could not be listed: {error}</p> : null;
}

export function ConnectionPicker(props: WidgetProps) {
  const { components, connector } = usePicker();
  const choices = components.filter((c) => c.type === "connection" && (!connector || c.connector === connector));
  return (
    <div className="picker">
      <ConnectorChoice idPrefix={props.id} disabled={Boolean(props.disabled || props.readonly)} />
      <IdSelect props={props} choices={choices} what="connection" />
      <ErrorNote />
    </div>
  );
}

export function OperationPicker(props: WidgetProps) {
  const { operations, components, connector, action, shape } = usePicker();
  const connection = components.find((c) => c.type === "connection" && c.id === shape.connection);
  const wanted = connection?.connector ?? connector;
  const choices = operations.filter((o) => (!wanted || o.connector === wanted) && (!action || actionOf(o) === action));
  return (
    <div className="picker">
      <ActionChoice idPrefix={props.id} disabled={Boolean(props.disabled || props.readonly)} />
      <IdSelect props={props} choices={choices} what="operation" />
    </div>
  );
}

export function ComponentPicker(props: WidgetProps) {
  const { components } = usePicker();
  const type = String(props.options.componentType ?? "");
  const choices = useMemo(() => components.filter((c) => c.type === type), [components, type]);
  return <IdSelect props={props} choices={choices} what={type} />;
}

/** The shape settings that name a component, by key: the widget and the component type. */
const PICKERS: Record<string, { widget: (props: WidgetProps) => ReactNode; componentType: string }> = {
  connection: { widget: ConnectionPicker, componentType: "connection" },
  operation: { widget: OperationPicker, componentType: "operation" },
  map: { widget: ComponentPicker, componentType: "map" },
  process: { widget: ComponentPicker, componentType: "process" },
  profile: { widget: ComponentPicker, componentType: "profile" },
};

/** uiSchema entries giving a shape form's component ids their pickers. */
export function pickerUiSchema(schema: JsonObject): Record<string, unknown> {
  const properties = isObject(schema.properties) ? schema.properties : {};
  const ui: Record<string, unknown> = {};
  for (const [key, picker] of Object.entries(PICKERS)) {
    const field = properties[key];
    if (isObject(field) && field.type === "string" && !Array.isArray(field.enum)) {
      ui[key] = { "ui:widget": picker.widget, "ui:options": { componentType: picker.componentType } };
    }
  }
  return ui;
}
