// The Build page: the folder tree of components with search and Create New on the left,
// the editor of the open component on the right.
import { useCallback, useEffect, useState } from "react";
import { useLocation, useNavigate, useParams, useSearchParams } from "react-router-dom";
import { api, errorText } from "../../api";
import type { ComponentSummary, User } from "../../types";
import { canEdit } from "../../types";
import { ComponentEditor } from "./ComponentEditor";
import { ComponentTree } from "./ComponentTree";
import { CreateNew } from "./CreateNew";
import type { NewSpec } from "./useEditor";

export function BuildPage({ user }: { user: User }) {
  const { componentId } = useParams();
  const [search] = useSearchParams();
  const navigate = useNavigate();
  const notice = ((useLocation().state ?? {}) as { notice?: string }).notice ?? "";
  const [components, setComponents] = useState<ComponentSummary[]>([]);
  const [error, setError] = useState("");

  const reload = useCallback(() => {
    api<ComponentSummary[]>("GET", "/components?body=false")
      .then((list) => { setComponents(list); setError(""); })
      .catch((e: unknown) => setError(errorText(e)));
  }, []);
  useEffect(reload, [reload]);

  const spec: NewSpec | null = search.get("type")
    ? { type: search.get("type") ?? "", connector: search.get("connector"), name: search.get("name") ?? "",
        folder: search.get("folder") ?? "" }
    : null;
  const editing = componentId ?? (spec ? null : undefined);
  // the canvas wants the width: with a process open the tree folds to its toggle (which opens it)
  const openType = spec?.type ?? components.find((c) => c.id === componentId)?.type;
  const [treeWanted, setTreeWanted] = useState<boolean | null>(null);
  const treeShown = treeWanted ?? openType !== "process";

  return (
    <main className="page build">
      <aside className={treeShown ? "sidebar" : "sidebar folded"} aria-label="Components">
        <button type="button" className="sidebar-toggle" aria-expanded={treeShown} aria-controls="component-tree"
                title={treeShown ? "Hide the component list" : "Show the component list"}
                onClick={() => setTreeWanted(!treeShown)}>
          Components
        </button>
        <div id="component-tree" hidden={!treeShown}>
          {canEdit(user) && <CreateNew onCreate={(s) => navigate(`/build/new?${new URLSearchParams(clean(s))}`)} />}
          {error && <p role="alert">{error}</p>}
          <ComponentTree components={components} selected={componentId ?? null} />
        </div>
      </aside>
      <div className="workspace">
        {editing === undefined ? (
          <p className="hint">Open a component from the tree, or make one with Create New.</p>
        ) : (
          <ComponentEditor
            key={componentId ?? search.toString()}
            componentId={componentId ?? null}
            spec={spec}
            user={user}
            notice={notice}
            onSaved={(saved) => {
              reload();
              if (saved.inPlace) {
                // a new process saved on the canvas: the address names it (a reload or a bookmark
                // opens it) without remounting the canvas
                window.history.replaceState(window.history.state, "", `/build/c/${encodeURIComponent(saved.id)}`);
              } else if (saved.id !== componentId) {
                navigate(`/build/c/${encodeURIComponent(saved.id)}`, { replace: true, state: { notice: `Saved version ${saved.version}.` } });
              }
            }}
            onClose={() => { reload(); navigate("/build"); }}
          />
        )}
      </div>
    </main>
  );
}

function clean(spec: NewSpec): Record<string, string> {
  const out: Record<string, string> = { type: spec.type, name: spec.name };
  if (spec.connector) out.connector = spec.connector;
  if (spec.folder) out.folder = spec.folder;
  return out;
}
