// A map's Mappings tab: its Source and Destination Profiles (picked by name) and its mappings
// as rows (To, From, Default). A mapping with a function or a value is listed; its details
// stay under Definition (YAML), which edits the same map.
import { useEffect, useState } from "react";
import { api, errorText, type FieldError } from "../../api";
import { errorLine } from "../../forms/errors";
import type { Body, ComponentSummary } from "../../types";

interface Profile extends ComponentSummary {
  body?: Record<string, unknown>;
}

type Mapping = Record<string, unknown>;

interface Props {
  draft: Body;
  errors: FieldError[];
  readOnly: boolean;
  onChange: (draft: Body) => void;
}

/** The paths a flat-file or database profile offers (its field or column names); JSON and XML
 * paths are typed. */
export function profilePaths(profile: Profile | undefined): string[] {
  const body = profile?.body ?? {};
  const list = Array.isArray(body.fields) ? body.fields : Array.isArray(body.columns) ? body.columns : [];
  return list.flatMap((entry: unknown) => {
    // a field is a bare name or {name: ..., ...}
    const name = typeof entry === "object" && entry !== null ? (entry as { name?: unknown }).name : entry;
    return typeof name === "string" ? [name] : [];
  });
}

function mappingsOf(draft: Body): Mapping[] {
  return Array.isArray(draft.mappings) ? (draft.mappings as Mapping[]) : [];
}

/** A mapping's source when it is not a plain `from`: its function or value, for the list. */
function otherSource(mapping: Mapping): string | null {
  if (typeof mapping.function === "string") return `function ${mapping.function} (settings under Definition)`;
  if (mapping.value !== undefined && mapping.value !== null) return "a value (under Definition)";
  return null;
}

function rowErrors(errors: FieldError[], index: number): string[] {
  const prefixes = [`mappings.${index}`, `mappings[${index}]`];
  return errors
    .filter((e) => prefixes.some((p) => e.field === p || e.field.startsWith(`${p}.`)))
    .map((e) => `${e.field}: ${errorLine(e)}`);
}

function useProfiles(): { profiles: Profile[]; error: string } {
  const [profiles, setProfiles] = useState<Profile[]>([]);
  const [error, setError] = useState("");
  useEffect(() => {
    api<Profile[]>("GET", "/components?type=profile&body=true").then(setProfiles).catch((e: unknown) => setError(errorText(e)));
  }, []);
  return { profiles, error };
}

function ProfileSelect(props: { id: string; label: string; value: unknown; profiles: Profile[]; readOnly: boolean;
  errors: string[]; onPick: (id: string) => void }) {
  const value = typeof props.value === "string" ? props.value : "";
  const known = props.profiles.some((p) => p.id === value);
  return (
    <div className="map-profile">
      <label htmlFor={props.id}>{props.label}</label>
      <select id={props.id} value={value} disabled={props.readOnly} onChange={(e) => props.onPick(e.target.value)}
              aria-describedby={props.errors.length ? `${props.id}-error` : undefined}>
        <option value="">(choose a profile)</option>
        {props.profiles.map((p) => <option key={p.id} value={p.id}>{p.name}</option>)}
        {value && !known && <option value={value}>{value} (not found)</option>}
      </select>
      {props.errors.length > 0 && <div id={`${props.id}-error`} role="alert" className="field-error">{props.errors.join(" ")}</div>}
    </div>
  );
}

export function MapForm({ draft, errors, readOnly, onChange }: Props) {
  const { profiles, error } = useProfiles();
  const mappings = mappingsOf(draft);
  const paths = (key: string) => profilePaths(profiles.find((p) => p.id === draft[key]));
  const setMappings = (next: Mapping[]) => onChange({ ...draft, mappings: next });
  const edit = (index: number, key: string, value: string) => {
    setMappings(mappings.map((m, i) => {
      if (i !== index) return m;
      const copy: Mapping = { ...m, [key]: value };
      if (value === "" && key !== "to") delete copy[key];
      return copy;
    }));
  };
  const profileErrors = (key: string) => errors.filter((e) => e.field === key).map(errorLine);
  return (
    <div className="map-form">
      {error && <p role="alert" className="error">The profiles could not be listed: {error}</p>}
      <ProfileSelect id="map-from-profile" label="Source Profile" value={draft.from_profile} profiles={profiles} readOnly={readOnly}
                     errors={profileErrors("from_profile")} onPick={(id) => onChange({ ...draft, from_profile: id })} />
      <ProfileSelect id="map-to-profile" label="Destination Profile" value={draft.to_profile} profiles={profiles} readOnly={readOnly}
                     errors={profileErrors("to_profile")} onPick={(id) => onChange({ ...draft, to_profile: id })} />
      <datalist id="map-source-paths">{paths("from_profile").map((p) => <option key={p} value={p} />)}</datalist>
      <datalist id="map-target-paths">{paths("to_profile").map((p) => <option key={p} value={p} />)}</datalist>
      <table aria-label="Mappings">
        <thead><tr><th>To</th><th>From</th><th>Default</th><th /></tr></thead>
        <tbody>
          {mappings.map((m, i) => (
            <MappingRow key={i} index={i} mapping={m} readOnly={readOnly} errors={rowErrors(errors, i)}
                        onEdit={(key, value) => edit(i, key, value)}
                        onRemove={() => setMappings(mappings.filter((_, j) => j !== i))} />
          ))}
        </tbody>
      </table>
      {profileErrors("mappings").map((e, i) => <p key={i} role="alert" className="field-error">mappings: {e}</p>)}
      {!readOnly && <button type="button" onClick={() => setMappings([...mappings, { to: "", from: "" }])}>Add Mapping</button>}
    </div>
  );
}

function MappingRow(props: { index: number; mapping: Mapping; readOnly: boolean; errors: string[];
  onEdit: (key: string, value: string) => void; onRemove: () => void }) {
  const n = props.index + 1;
  const text = (key: string) => (typeof props.mapping[key] === "string" ? (props.mapping[key] as string) : "");
  const other = otherSource(props.mapping);
  return (
    <>
      <tr>
        <td><input aria-label={`To, mapping ${n}`} list="map-target-paths" value={text("to")} readOnly={props.readOnly}
                   onChange={(e) => props.onEdit("to", e.target.value)} /></td>
        <td>{other ?? <input aria-label={`From, mapping ${n}`} list="map-source-paths" value={text("from")}
                             readOnly={props.readOnly} onChange={(e) => props.onEdit("from", e.target.value)} />}</td>
        <td><input aria-label={`Default, mapping ${n}`} value={text("default")} readOnly={props.readOnly}
                   onChange={(e) => props.onEdit("default", e.target.value)} /></td>
        <td>{!props.readOnly && <button type="button" aria-label={`Remove mapping ${n}`} onClick={props.onRemove}>Remove</button>}</td>
      </tr>
      {props.errors.length > 0 && (
        <tr><td colSpan={4} role="alert" className="field-error">{props.errors.join(" ")}</td></tr>
      )}
    </>
  );
}
