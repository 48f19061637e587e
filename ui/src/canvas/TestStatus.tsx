// The state of the last Test run, in words.
import type { TestRun } from "./useTestRun";

export function TestStatus({ run }: { run: TestRun }) {
  if (run.error) return <p role="alert">Test failed to start: {run.error}</p>;
  if (!run.execution) return null;
  const counts = run.execution;
  return (
    <p role="status" aria-label="Test run" className="canvas-test-status">
      Test {run.finished ? counts.status : "running"}
      {counts.documents_in !== undefined &&
        ` (documents in ${counts.documents_in}, out ${counts.documents_out ?? 0}, failed ${counts.documents_failed ?? 0})`}
      {run.finished && " — click a shape to see the documents that entered it"}
    </p>
  );
}
