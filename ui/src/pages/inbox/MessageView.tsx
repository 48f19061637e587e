// One caught message: headers, parts (text as text, HTML in a sandboxed iframe with no
// scripts), and the raw source on demand.
import { useEffect, useState } from "react";
import { api, errorText } from "../../api";

interface Part {
  content_type: string;
  filename: string | null;
  text: string | null;
  html: string | null;
  size: number;
}

interface Message {
  id: string;
  headers: [string, string][];
  from: string;
  to: string[];
  subject: string;
  parts: Part[];
}

export function MessageView({ messageId }: { messageId: string }) {
  const [message, setMessage] = useState<Message | null>(null);
  const [raw, setRaw] = useState<string | null>(null);
  const [error, setError] = useState("");
  const path = `/devmail/messages/${encodeURIComponent(messageId)}`;

  useEffect(() => {
    api<Message>("GET", path).then(setMessage).catch((e: unknown) => setError(errorText(e)));
  }, [path]);

  async function toggleRaw() {
    if (raw !== null) return setRaw(null);
    try {
      const text = await api<unknown>("GET", `${path}/raw`);
      setRaw(typeof text === "string" ? text : JSON.stringify(text));
    } catch (e) {
      setError(errorText(e));
    }
  }

  if (error) return <p role="alert">{error}</p>;
  if (!message) return <p>Loading…</p>;
  return (
    <section className="message" aria-label="Message">
      <h2>{message.subject || "(no subject)"}</h2>
      <table aria-label="Headers">
        <tbody>
          {message.headers.map(([name, value], i) => <tr key={i}><th scope="row">{name}</th><td>{value}</td></tr>)}
        </tbody>
      </table>
      <button type="button" aria-pressed={raw !== null} onClick={toggleRaw}>Raw Source</button>
      {raw !== null && <pre className="raw" aria-label="Raw source">{raw}</pre>}
      {message.parts.map((part, i) => <PartView key={i} part={part} index={i} />)}
    </section>
  );
}

function PartView({ part, index }: { part: Part; index: number }) {
  const label = `Part ${index + 1}: ${part.content_type}${part.filename ? ` (${part.filename})` : ""}, ${part.size} bytes`;
  return (
    <div className="part">
      <h3>{label}</h3>
      {part.html !== null && (
        <iframe sandbox="" srcDoc={part.html} title={`HTML body, part ${index + 1}`} className="html-body" />
      )}
      {part.html === null && part.text !== null && <pre className="text-body">{part.text}</pre>}
      {part.html === null && part.text === null && <p>(not text: {part.size} bytes)</p>}
    </div>
  );
}
