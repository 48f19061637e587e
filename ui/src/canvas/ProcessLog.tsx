// The process log of a test run, as a table of text.
import type { LogLine } from "./api";
import { DataTable } from "./DataTable";

export function ProcessLog({ lines }: { lines: LogLine[] }) {
  const rows = lines.map((l) => [l.time, l.level, l.shape ?? "", l.message]);
  return (
    <section aria-label="Process Log" className="canvas-log">
      <h3>Process Log</h3>
      <DataTable caption="Process Log" header={["Time", "Level", "Shape", "Message"]} rows={rows} />
    </section>
  );
}
