// What an execution's page shows beyond its own counts: the letters that bounced later
// (reports read by a mail Get with recognize: bounces) and the chunks of a run cut at Flow
// Control on the workers. Each table only when there is something to show.
import { statusText, when, type Bounce, type Chunk } from "./types";

export function BouncesTable({ bounces }: { bounces: Bounce[] }) {
  if (bounces.length === 0) return null;
  return (
    <>
      <h3>Bounced later</h3>
      <table aria-label="Bounced later">
        <thead>
          <tr><th>Recipient</th><th>Kind</th><th>Status</th><th>Reported</th><th>Message-ID</th><th>Diagnostic</th></tr>
        </thead>
        <tbody>
          {bounces.map((b) => (
            <tr key={`${b.message_id} ${b.recipient} ${b.recorded_at ?? ""}`}>
              <td>{b.recipient}</td><td>{b.kind}</td><td>{b.status}</td>
              <td>{when(b.reported_at ?? b.recorded_at)}</td><td>{b.message_id}</td><td>{b.diagnostic}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

export function ChunksTable({ chunks }: { chunks: Chunk[] }) {
  if (chunks.length === 0) return null;
  return (
    <>
      <h3>Chunks</h3>
      <table aria-label="Chunks">
        <thead>
          <tr><th>Shape</th><th>Chunk</th><th>Worker</th><th>Documents</th><th>Status</th><th>Attempts</th><th>Error</th></tr>
        </thead>
        <tbody>
          {chunks.map((c) => (
            <tr key={`${c.shape} ${c.number}`}>
              <td>{c.shape}</td><td>{c.number}</td><td>{c.node ?? ""}</td><td>{c.documents}</td>
              <td>{statusText(c.status)}</td><td>{c.attempts}</td><td>{c.error ?? ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
