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
  const table = useMemo(() => Object.fromEntries(shapes.map((s) => [s.type, s.outlets])), [shapes]);
  const { reset } = doc;

  useEffect(() => {
    let live = true;
    const load = async () => {
      const infos = await getShapes().catch((e: unknown) => {
        setMessage(`The shapes could not be loaded: ${e instanceof Error ? e.message : String(e)}`);
        return [] as ShapeInfo[];
      });
      if (!live) return;
      setShapes(infos);
      const outlets = Object.fromEntries(infos.map((s) => [s.type, s.outlets]));
      if (initialId === null) {
        setSaved(JSON.stringify(bodyFor(EMPTY, "", outlets)));
        return;
      }
      const component = await getComponent(initialId);
      if (!live) return;
      const graph = bodyToGraph(component.body, outlets);
      const loadedName = typeof component.body.name === "string" ? component.body.name : component.name;
      reset(graph);
      setName(loadedName);
      setVersion(component.version);
      setSaved(JSON.stringify(bodyFor(graph, loadedName, outlets)));
    };
    load()
      .catch((e: unknown) => {
        if (!live) return;
        setBroken(true);
        setMessage(`The process could not be loaded: ${e instanceof Error ? e.message : String(e)}`);
      })
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
  }, [initialId, reset]);

  const body = bodyFor(doc.history.present, name, table);
  const dirty = JSON.stringify(body) !== saved;

  /** Save; answers the component id, or null when the server refused (nothing is lost). */
  const save = useCallback(async (): Promise<string | null> => {
    setMessage("Saving…");
    setSaving(true);
    try {
      const component = await saveComponent(id, body, version);
      setId(component.id);
      setVersion(component.version);
      setSaved(JSON.stringify(body));
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
  }, [id, body, version, onSaved]);

  return { doc, shapes, table, id, name, setName, loading, broken, saving, message, errors, dirty, save };
}
