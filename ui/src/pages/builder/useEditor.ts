// The state of one component in the editor: what the server has, what the user typed
// (kept whatever the server answers), the secrets typed through Click to set, and Save.
import { useCallback, useEffect, useState } from "react";
import { api, ApiError, errorText, type FieldError } from "../../api";
import { secretFields } from "../../forms/schema";
import type { Body, ComponentDetail, JsonSchema } from "../../types";

export interface NewSpec {
  type: string;
  connector: string | null;
  name: string;
  folder: string;
}

export interface EditorState {
  loaded: boolean;
  detail: ComponentDetail | null; // null: not saved yet
  draft: Body; // the body being edited (settings included)
  pending: Record<string, string>; // secret settings typed, sent on Save, never shown
  errors: FieldError[];
  message: string;
  notice: string;
  dirty: boolean;
}

function fresh(spec: NewSpec): Body {
  const body: Body = { type: spec.type, name: spec.name };
  if (spec.folder) body.folder = spec.folder;
  if (spec.connector) body.connector = spec.connector;
  if (spec.type === "connection" || spec.type === "operation") body.settings = {};
  return body;
}

const EMPTY: EditorState = {
  loaded: false, detail: null, draft: {}, pending: {}, errors: [], message: "", notice: "", dirty: false,
};

export function useEditor(componentId: string | null, spec: NewSpec | null, notice = "") {
  const [state, setState] = useState<EditorState>(EMPTY);

  const load = useCallback(async () => {
    if (!componentId) {
      setState({ ...EMPTY, loaded: true, draft: spec ? fresh(spec) : {} });
      return;
    }
    try {
      const detail = await api<ComponentDetail>("GET", `/components/${encodeURIComponent(componentId)}`);
      setState({ ...EMPTY, loaded: true, detail, draft: structuredClone(detail.body), notice });
    } catch (error) {
      setState({ ...EMPTY, loaded: true, message: errorText(error) });
    }
    // spec only matters for a new component; its fields are primitives in the URL
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [componentId, spec?.type, spec?.connector, spec?.name, spec?.folder, notice]);

  useEffect(() => {
    void load();
  }, [load]);

  const edit = useCallback((change: (draft: Body) => Body) => {
    setState((s) => ({ ...s, draft: change(s.draft), dirty: true }));
  }, []);

  const setPending = useCallback((field: string, value: string) => {
    setState((s) => ({ ...s, pending: { ...s.pending, [field]: value }, dirty: true, notice: "" }));
  }, []);

  const save = useCallback(
    async (settingsSchema: JsonSchema | null): Promise<ComponentDetail | null> => {
      const body = bodyToSend(state.draft, state.pending, settingsSchema);
      try {
        const saved = state.detail
          ? await api<ComponentDetail>("PUT", `/components/${encodeURIComponent(state.detail.id)}`,
              { body, base_version: state.detail.version })
          : await api<ComponentDetail>("POST", "/components", { body });
        setState({ ...EMPTY, loaded: true, detail: saved, draft: structuredClone(saved.body),
          notice: `Saved version ${saved.version}.` });
        return saved;
      } catch (error) {
        const errors = error instanceof ApiError ? error.errors : [];
        setState((s) => ({ ...s, errors, message: errorText(error), notice: "" }));
        return null;
      }
    },
    [state.draft, state.pending, state.detail],
  );

  return { state, edit, setPending, save, revert: load };
}

/** The body Save sends: secret settings only when typed through Click to set (left out, the
 * server keeps the stored value). */
export function bodyToSend(draft: Body, pending: Record<string, string>, schema: JsonSchema | null): Body {
  const body: Body = { ...draft };
  if (!schema || typeof draft.settings !== "object" || draft.settings === null) return body;
  const settings = { ...(draft.settings as Record<string, unknown>) };
  for (const field of secretFields(schema)) {
    delete settings[field];
    if (field in pending) settings[field] = pending[field];
  }
  body.settings = settings;
  return body;
}
