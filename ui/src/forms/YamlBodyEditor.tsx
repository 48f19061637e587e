// Components without a connector schema form (profiles, maps, ...): their definition as
// YAML, exactly as `postroom import` reads it, checked by the server on Save.
import { useState } from "react";
import { parse, stringify } from "yaml";
import type { FieldError } from "../api";
import type { Body } from "../types";
import { errorLine } from "./errors";

const HEADER = ["type", "id", "name", "folder"];

interface Props {
  draft: Body;
  errors: FieldError[];
  readOnly: boolean;
  onChange: (draft: Body) => void;
}

function definitionOf(draft: Body): string {
  const rest = Object.fromEntries(Object.entries(draft).filter(([key]) => !HEADER.includes(key)));
  return Object.keys(rest).length ? stringify(rest) : "";
}

export function YamlBodyEditor({ draft, errors, readOnly, onChange }: Props) {
  const [text, setText] = useState(() => definitionOf(draft));
  const [problem, setProblem] = useState("");

  function change(value: string) {
    setText(value);
    try {
      const parsed: unknown = value.trim() ? parse(value) : {};
      if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("the definition must be a mapping of keys to values");
      const header = Object.fromEntries(Object.entries(draft).filter(([key]) => HEADER.includes(key)));
      onChange({ ...(parsed as Body), ...header });
      setProblem("");
    } catch (error) {
      setProblem(`YAML: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  const shown = errors.filter((e) => e.field !== "name");
  return (
    <div className="yaml-editor">
      <label htmlFor="definition">Definition (YAML)</label>
      <textarea id="definition" rows={18} spellCheck={false} value={text} readOnly={readOnly}
                aria-describedby={problem || shown.length ? "definition-errors" : undefined}
                onChange={(e) => change(e.target.value)} />
      {(problem || shown.length > 0) && (
        <div id="definition-errors" role="alert" className="field-error">
          {problem && <div>{problem}</div>}
          {shown.map((e, i) => <div key={i}>{e.field}: {errorLine(e)}</div>)}
        </div>
      )}
    </div>
  );
}
