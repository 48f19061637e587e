// Every port the devmail of this POSTROOM_HOME took, with what a Mail connection's form needs
// to use it (Host, Port, Use TLS?, Use SSL?, Trusted CA file).
/** What GET /api/devmail says of the devmail of this POSTROOM_HOME: whether it runs and its ports. */
export interface DevmailState {
  running: boolean;
  smtp_port?: number | null;
  smtps_port?: number | null;
  pop3_port?: number | null;
  pop3s_port?: number | null;
  imap_port?: number | null;
  imaps_port?: number | null;
  web_port?: number | null;
  /** the host a Mail connection names (localhost when its certificate names it) */
  host?: string | null;
  /** the plain SMTP/POP3/IMAP ports offer STARTTLS */
  starttls?: boolean;
  ca_file?: string | null;
}

interface PortRow {
  protocol: string;
  port: number;
  security: string;
  settings: string;
}

type PortKey = "smtp_port" | "smtps_port" | "pop3_port" | "pop3s_port" | "imap_port" | "imaps_port";

const LISTENERS: { key: PortKey; protocol: string; implicit: boolean; use: string }[] = [
  { key: "smtp_port", protocol: "SMTP", implicit: false, use: "Send" },
  { key: "smtps_port", protocol: "SMTPS", implicit: true, use: "Send" },
  { key: "pop3_port", protocol: "POP3", implicit: false, use: "Get" },
  { key: "pop3s_port", protocol: "POP3S", implicit: true, use: "Get" },
  { key: "imap_port", protocol: "IMAP", implicit: false, use: "Get" },
  { key: "imaps_port", protocol: "IMAPS", implicit: true, use: "Get" },
];

export function portRows(devmail: DevmailState): PortRow[] {
  const rows: PortRow[] = [];
  for (const listener of LISTENERS) {
    const port = devmail[listener.key];
    if (typeof port !== "number" || port <= 0) continue;
    let security = "plain";
    let settings = "Use TLS? and Use SSL? off";
    if (listener.implicit) {
      security = "TLS from the first byte";
      settings = "Use SSL? on";
    } else if (devmail.starttls) {
      security = "STARTTLS available";
      settings = "Use TLS? on (STARTTLS), Use SSL? off";
    }
    rows.push({ protocol: listener.protocol, port, security, settings: `${listener.use}; ${settings}` });
  }
  return rows;
}

export function PortsTable({ devmail }: { devmail: DevmailState }) {
  const rows = portRows(devmail);
  return (
    <section aria-label="Dev mail ports" className="devmail-ports">
      <p className="hint">
        Dev mail is running. A Mail connection reaches it with <strong>Host</strong>{" "}
        <code>{devmail.host ?? "127.0.0.1"}</code> and one of these as <strong>Port</strong>
        {devmail.ca_file ? <> (with <strong>Trusted CA file</strong> <code>{devmail.ca_file}</code> for TLS)</> : null}:
      </p>
      <table aria-label="Ports">
        <thead><tr><th>Protocol</th><th>Port</th><th>Security</th><th>Connection settings</th></tr></thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.protocol}><td>{row.protocol}</td><td>{row.port}</td><td>{row.security}</td><td>{row.settings}</td></tr>
          ))}
          {typeof devmail.web_port === "number" && devmail.web_port > 0 && (
            <tr><td>Web inbox</td><td>{devmail.web_port}</td><td>plain (this machine)</td><td>what this page reads</td></tr>
          )}
        </tbody>
      </table>
    </section>
  );
}
