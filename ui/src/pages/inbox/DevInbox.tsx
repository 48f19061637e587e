// The Dev Inbox: the messages the devmail of this POSTROOM_HOME caught, newest first, and
// one message with its headers, parts and raw source.
import { useEffect, useState } from "react";
import { Link, useParams } from "react-router-dom";
import { api, errorText } from "../../api";
import { MessageView } from "./MessageView";
import { type DevmailState, PortsTable } from "./PortsTable";

export interface MessageSummary {
  id: string;
  from: string;
  to: string[];
  subject: string;
  date: string;
  size?: number;
}

export function DevInbox() {
  const { messageId } = useParams();
  const [devmail, setDevmail] = useState<DevmailState | null>(null);
  const [messages, setMessages] = useState<MessageSummary[]>([]);
  const [error, setError] = useState("");
  const [tick, setTick] = useState(0);

  useEffect(() => {
    setError("");
    api<DevmailState>("GET", "/devmail")
      .then(async (state) => {
        setDevmail(state);
        if (state.running) setMessages(await api<MessageSummary[]>("GET", "/devmail/messages"));
      })
      .catch((e: unknown) => setError(errorText(e)));
  }, [tick]);

  return (
    <main className="page inbox">
      <h1>Dev Inbox</h1>
      {error && <p role="alert">{error}</p>}
      {devmail && !devmail.running && (
        <p role="status">
          Dev mail is not running for this POSTROOM_HOME. Start it with <code>postroom devmail</code> (same
          POSTROOM_HOME), then Refresh.
        </p>
      )}
      {devmail?.running && <PortsTable devmail={devmail} />}
      <button type="button" onClick={() => setTick(tick + 1)}>Refresh</button>
      {devmail?.running && <MessageTable messages={messages} />}
      {messageId && devmail?.running && <MessageView key={messageId} messageId={messageId} />}
    </main>
  );
}

function MessageTable({ messages }: { messages: MessageSummary[] }) {
  if (messages.length === 0) return <p>No messages yet.</p>;
  return (
    <table aria-label="Messages">
      <thead><tr><th>From</th><th>To</th><th>Subject</th><th>Date</th></tr></thead>
      <tbody>
        {messages.map((m) => (
          <tr key={m.id}>
            <td>{m.from}</td>
            <td>{m.to.join(", ")}</td>
            <td><Link to={`/inbox/${encodeURIComponent(m.id)}`}>{m.subject || "(no subject)"}</Link></td>
            <td>{m.date}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
