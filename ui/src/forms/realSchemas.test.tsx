// The settings forms of the connectors as the Python models describe them today (a snapshot
// in test/realSchemas.json): every field renders, labelled by its title.
import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import schemas from "../test/realSchemas.json";
import type { JsonSchema } from "../types";
import { showIfHolds, isSecret } from "./schema";
import { SettingsForm } from "./SettingsForm";

describe("real connector schemas", () => {
  for (const [name, schema] of Object.entries(schemas as Record<string, JsonSchema>)) {
    it(`renders ${name} with a labelled control for every shown field`, () => {
      render(<SettingsForm schema={schema} data={{}} onChange={() => undefined} errors={[]} readOnly={false}
        secrets={{ status: {}, pending: {}, setPending: () => undefined, readOnly: false }} />);
      for (const [field, child] of Object.entries(schema.properties ?? {})) {
        const defaults = Object.fromEntries(Object.entries(schema.properties ?? {}).map(([k, v]) => [k, v.default]));
        if (!showIfHolds(child.show_if, defaults) || isSecret(child)) continue;
        const title = String(child.title ?? field);
        const type = child.type ?? (child.anyOf as JsonSchema[] | undefined)?.[0]?.type;
        if (type === "object" || type === "array") continue;
        expect(screen.getAllByLabelText(title, { exact: true }).length, `${name}.${field}`).toBeGreaterThan(0);
      }
    });
  }
});
