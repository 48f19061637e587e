// The process being edited: load it (and the palette), keep its graph with undo/redo,
// save it (POST when new, PUT with base_version after), keep what was typed on errors.
import { useCallback, useEffect, useMemo, useState } from "react";
import { ApiError } from "../api";
import { getComponent, getShapes, saveComponent } from "./api";
import { bodyToGraph, graphToBody } from "./convert";
import { useHistory } from "./history";
import type { OutletTable } from "./outlets";
import type { ProcessBody, ProcessGraph, ShapeInfo } from "./types";
import { serverProblems, type ServerProblems } from "./validation";

const EMPTY: ProcessGraph = { meta: { type: "process", name: "" }, start: undefined, nodes: [], edges: [] };

export function bodyFor(graph: ProcessGraph, name: string, table: OutletTable): ProcessBody {
  return graphToBody({ ...graph, meta: { ...graph.meta, name } }, table);
}

export interface NewProcess {
  name?: string;
  folder?: string | null;
}

function emptyGraph(spec: NewProcess | undefined): ProcessGraph {
  const folder = spec?.folder?.trim();
  return { ...EMPTY, meta: folder ? { ...EMPTY.meta, folder } : EMPTY.meta };
}

function outletTable(infos: ShapeInfo[]): OutletTable {
  return Object.fromEntries(infos.map((s) => [s.type, s.outlets]));
}

interface Loaded {
  infos: ShapeInfo[];
  shapesError: string;
  process: { graph: ProcessGraph; name: string; version: number } | null;
}

/** The palette and (for an existing process) its graph; a palette that fails is reported, not fatal. */
async function loadProcess(id: string | null): Promise<Loaded> {
  let shapesError = "";
  const infos = await getShapes().catch((e: unknown) => {
    shapesError = e instanceof Error ? e.message : String(e);
    return [] as ShapeInfo[];
  });
  if (id === null) return { infos, shapesError, process: null };
  const component = await getComponent(id);
  const name = typeof component.body.name === "string" ? component.body.name : component.name;
  return { infos, shapesError, process: { graph: bodyToGraph(component.body, outletTable(infos)), name, version: component.version } };
}

interface LoadSetters {
  setShapes: (infos: ShapeInfo[]) => void;
  setMessage: (message: string) => void;
  setSaved: (json: string) => void;
  setName: (name: string) => void;
  setVersion: (version: number) => void;
  setBroken: (broken: boolean) => void;
  setLoading: (loading: boolean) => void;
  reset: (graph: ProcessGraph) => void;
}

/** Load once per id (state setters are stable). */
function useLoader(initialId: string | null, setters: LoadSetters): void {
  const [set] = useState(setters);
  useEffect(() => {
    let live = true;
    loadProcess(initialId)
      .then((loaded) => {
        if (!live) return;
        set.setShapes(loaded.infos);
        if (loaded.shapesError) set.setMessage(`The shapes could not be loaded: ${loaded.shapesError}`);
        const outlets = outletTable(loaded.infos);
        if (!loaded.process) {
          set.setSaved(JSON.stringify(bodyFor(EMPTY, "", outlets)));
          return;
        }
        const { graph, name: loadedName, version: loadedVersion } = loaded.process;
        set.reset(graph);
        set.setName(loadedName);
        set.setVersion(loadedVersion);
        set.setSaved(JSON.stringify(bodyFor(graph, loadedName, outlets)));
      })
      .catch((e: unknown) => {
        if (!live) return;
        set.setBroken(true);
        set.setMessage(`The process could not be loaded: ${e instanceof Error ? e.message : String(e)}`);
      })
      .finally(() => live && set.setLoading(false));
    return () => {
      live = false;
    };
  }, [initialId, set]);
}

export function useProcessDoc(
  initialId: string | null,
  onSaved?: (saved: { id: string; version: number; name: string }) => void,
  spec?: NewProcess,
) {
  const doc = useHistory<ProcessGraph>(initialId === null ? emptyGraph(spec) : EMPTY);
  const [shapes, setShapes] = useState<ShapeInfo[]>([]);
  const [id, setId] = useState<string | null>(initialId);
  const [version, setVersion] = useState<number | null>(null);
  const [name, setName] = useState(initialId === null ? (spec?.name ?? "") : "");
  const [saved, setSaved] = useState("");
  const [loading, setLoading] = useState(true);
  const [broken, setBroken] = useState(false); // not loaded: saving would overwrite it
  const [saving, setSaving] = useState(false);
  const [message, setMessage] = useState("");
  const [errors, setErrors] = useState<ServerProblems>({ byShape: {}, general: [], fields: {} });
  const table = useMemo(() => outletTable(shapes), [shapes]);
  const { reset } = doc;

  useLoader(initialId, { setShapes, setMessage, setSaved, setName, setVersion, setBroken, setLoading, reset });

  const body = bodyFor(doc.history.present, name, table);
  const dirty = JSON.stringify(body) !== saved;

  /** Save (`graph`: what to save when not the present one); answers the component id, or null when the server refused (nothing is lost). */
  const save = useCallback(async (graph?: ProcessGraph): Promise<string | null> => {
    const sent = graph ? bodyFor(graph, name, table) : body;
    setMessage("Saving…");
    setSaving(true);
    try {
      const component = await saveComponent(id, sent, version);
      setId(component.id);
      setVersion(component.version);
      setSaved(JSON.stringify(sent));
      setErrors({ byShape: {}, general: [], fields: {} });
      setMessage(`Saved version ${component.version}`);
      onSaved?.({ id: component.id, version: component.version, name: component.name });
      return component.id;
    } catch (e) {
      const fields = e instanceof ApiError ? e.errors : [];
      setErrors(serverProblems(fields));
      setMessage(`Not saved: ${e instanceof Error ? e.message : String(e)}`);
      return null;
    } finally {
      setSaving(false);
    }
  }, [id, body, version, onSaved, name, table]);

  return { doc, shapes, table, id, name, setName, loading, broken, saving, message, errors, dirty, save };
}
