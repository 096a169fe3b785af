/** An import's progress (rows done of the total) and each row's result as it finishes, in row order. */
import type { RowOutcome, RowResult } from "../imports/run.ts";
import { Table } from "../ui.tsx";

export interface Progress {
  total: number;
  /** The rows finished so far, in the order they finished. */
  results: RowResult[];
}

const OUTCOMES: RowOutcome[] = ["imported", "subscribed", "already there", "failed"];

export function ImportProgress({ progress }: { progress: Progress }) {
  const done = progress.results.length;
  const count = (outcome: RowOutcome) => progress.results.filter((r) => r.outcome === outcome).length;
  const rows = [...progress.results].sort((a, b) => a.row - b.row);
  return (
    <section aria-label="Import" className="stack">
      <h2>Import</h2>
      <label htmlFor="import-progress">
        {done} of {progress.total} rows done
      </label>
      <progress id="import-progress" value={done} max={progress.total} />
      <p role="status">
        {done < progress.total ? "Importing… " : "Done: "}
        {OUTCOMES.map((o) => `${count(o)} ${o}`).join(", ")}.
      </p>
      <Table caption="Import results" head={["Row", "Number", "Result", "Details"]}>
        {rows.map((r) => (
          <tr key={r.row}>
            <td>{r.row}</td>
            <td>{r.number}</td>
            <td className={r.outcome === "failed" ? "status bad" : "status"}>{r.outcome}</td>
            <td>{r.identity ? <a href={`#/people/${r.identity}`}>{r.message}</a> : r.message}</td>
          </tr>
        ))}
      </Table>
    </section>
  );
}
