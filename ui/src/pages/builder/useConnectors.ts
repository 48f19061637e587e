// The connectors the server knows (GET /api/connectors), with their settings schemas.
import { useEffect, useState } from "react";
import { api, errorText } from "../../api";
import type { Connector } from "../../types";

export function useConnectors(): { connectors: Connector[]; error: string } {
  const [connectors, setConnectors] = useState<Connector[]>([]);
  const [error, setError] = useState("");
  useEffect(() => {
    api<Connector[]>("GET", "/connectors").then(setConnectors).catch((e: unknown) => setError(errorText(e)));
  }, []);
  return { connectors, error };
}

export const TYPE_TITLES: Record<string, string> = {
  connection: "Connection",
  operation: "Connector Operation",
  process: "Process",
  profile: "Profile",
  map: "Map",
};
