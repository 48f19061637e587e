// The components in their folders, filtered by the search box (name or id).
import { useMemo, useState } from "react";
import { Link } from "react-router-dom";
import type { ComponentSummary } from "../../types";
import { TYPE_TITLES } from "./useConnectors";

interface Folder {
  name: string;
  path: string;
  folders: Map<string, Folder>;
  components: ComponentSummary[];
}

function folderTree(components: ComponentSummary[]): Folder {
  const root: Folder = { name: "", path: "", folders: new Map(), components: [] };
  for (const component of components) {
    let node = root;
    for (const part of (component.folder ?? "").split("/").filter(Boolean)) {
      const path = node.path ? `${node.path}/${part}` : part;
      if (!node.folders.has(part)) node.folders.set(part, { name: part, path, folders: new Map(), components: [] });
      node = node.folders.get(part)!;
    }
    node.components.push(component);
  }
  return root;
}

export function ComponentTree({ components, selected }: { components: ComponentSummary[]; selected: string | null }) {
  const [text, setText] = useState("");
  const tree = useMemo(() => {
    const needle = text.trim().toLowerCase();
    const shown = needle
      ? components.filter((c) => c.name.toLowerCase().includes(needle) || c.id.toLowerCase().includes(needle))
      : components;
    return folderTree([...shown].sort((a, b) => a.name.localeCompare(b.name)));
  }, [components, text]);

  return (
    <div className="tree">
      <input type="search" aria-label="Search components" placeholder="Search components" value={text}
             onChange={(e) => setText(e.target.value)} />
      <FolderList folder={tree} selected={selected} />
      {components.length === 0 && <p className="hint">No components yet.</p>}
    </div>
  );
}

function FolderList({ folder, selected }: { folder: Folder; selected: string | null }) {
  return (
    <ul>
      {[...folder.folders.values()].sort((a, b) => a.name.localeCompare(b.name)).map((child) => (
        <li key={child.path}>
          <details open>
            <summary>{child.name}</summary>
            <FolderList folder={child} selected={selected} />
          </details>
        </li>
      ))}
      {folder.components.map((c) => (
        <li key={c.id}>
          <Link to={`/build/c/${encodeURIComponent(c.id)}`} aria-current={c.id === selected ? "page" : undefined}>
            {c.name}
          </Link>{" "}
          <span className="kind">{TYPE_TITLES[c.type] ?? c.type}</span>
        </li>
      ))}
    </ul>
  );
}
