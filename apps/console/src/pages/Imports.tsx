/**
 * Imports: a CSV of people and the message set to subscribe them to, every row checked before anything is written
 * (bad rows listed with their reasons), then imported through the APIs with progress (src/imports/).
 */
import { useQuery } from "@tanstack/react-query";
import { type ChangeEvent, useMemo, useState } from "react";
import { ok } from "../api.ts";
import { type CheckedFile, checkRows, type ImportSet } from "../imports/check.ts";
import { parseCsv } from "../imports/csv.ts";
import { importRows } from "../imports/run.ts";
import { ErrorNote, Loaded, Table, useClient } from "../ui.tsx";
import { ImportProgress, type Progress } from "./ImportProgress.tsx";

/** Content's message sets, each with the languages its messages are in. */
function useImportSets() {
  const client = useClient();
  return useQuery({
    queryKey: ["import-sets"],
    queryFn: async (): Promise<ImportSet[]> => {
      const [sets, languages] = await Promise.all([
        ok(client.content.GET("/api/v1/messageset/", { params: { query: { limit: 100 } } })),
        ok(client.content.GET("/api/v1/messageset_languages/")),
      ]);
      return sets.results.map((s) => ({
        id: s.id,
        short_name: s.short_name,
        default_schedule: s.default_schedule,
        languages: (languages as Record<string, string[]>)[String(s.id)] ?? [],
      }));
    },
  });
}

const rowsOf = (n: number, what = "") => `${n} ${what}${what ? " " : ""}row${n === 1 ? "" : "s"}`;

function CheckResult({ checked }: { checked: CheckedFile }) {
  if (checked.fileErrors.length > 0) {
    return (
      <div role="alert" className="error">
        <p>This file cannot be imported:</p>
        <ul>
          {checked.fileErrors.map((e) => (
            <li key={e}>{e}</li>
          ))}
        </ul>
      </div>
    );
  }
  return (
    <>
      <p role="status">
        {rowsOf(checked.good.length + checked.bad.length)}: {checked.good.length} good, {checked.bad.length}{" "}
        with problems.
      </p>
      {checked.bad.length > 0 && (
        <Table caption="Rows with problems" head={["Row", "Problem"]}>
          {checked.bad.map((b) => (
            <tr key={b.row}>
              <td>{b.row}</td>
              <td className="bad">{b.reasons.join(" ")}</td>
            </tr>
          ))}
        </Table>
      )}
    </>
  );
}

function ImportForm({ sets }: { sets: ImportSet[] }) {
  const client = useClient();
  const [file, setFile] = useState<{ name: string; text: string } | null>(null);
  const [readError, setReadError] = useState<unknown>(null);
  const [setId, setSetId] = useState<number | null>(null);
  const [country, setCountry] = useState("");
  const [concurrency, setConcurrency] = useState(4);
  const [onlyGood, setOnlyGood] = useState(false);
  const [progress, setProgress] = useState<Progress | null>(null);
  const checked = useMemo(
    () =>
      file
        ? checkRows(parseCsv(file.text), {
            sets,
            defaultSet: setId,
            ...(country ? { defaultCountry: country.toUpperCase() } : {}),
          })
        : null,
    [file, sets, setId, country],
  );
  const choose = async (event: ChangeEvent<HTMLInputElement>) => {
    const chosen = event.target.files?.[0];
    setProgress(null);
    setOnlyGood(false);
    setReadError(null);
    try {
      setFile(chosen ? { name: chosen.name, text: await chosen.text() } : null);
    } catch (err) {
      setReadError(err);
    }
  };
  const running = progress !== null && progress.results.length < progress.total;
  const blocked = !checked || checked.good.length === 0 || (checked.bad.length > 0 && !onlyGood) || running;
  const start = async () => {
    if (!checked) {
      return;
    }
    setProgress({ total: checked.good.length, results: [] });
    await importRows(client, checked.good, concurrency, (result) =>
      setProgress((p) => p && { ...p, results: [...p.results, result] }),
    );
  };
  return (
    <>
      <div className="card stack">
        <p className="muted">
          Columns: <code>number</code> (or <code>msisdn</code>), <code>language</code>, optional{" "}
          <code>email</code> and <code>messageset</code> (a short name or id, instead of the set chosen here);
          any other column is kept in the person's details. Nothing is written until you import.
        </p>
        <label htmlFor="import-file">CSV file</label>
        <input id="import-file" type="file" accept=".csv,text/csv" onChange={choose} />
        <label htmlFor="import-set">Message set</label>
        <select
          id="import-set"
          value={setId ?? ""}
          onChange={(e) => setSetId(e.target.value ? Number(e.target.value) : null)}
        >
          <option value="">From the file's messageset column</option>
          {sets.map((s) => (
            <option key={s.id} value={s.id}>
              {s.short_name} ({s.languages.join(", ") || "no messages"})
            </option>
          ))}
        </select>
        <label htmlFor="import-country">Country of numbers without a +country code (optional, e.g. ZA)</label>
        <input
          id="import-country"
          value={country}
          maxLength={2}
          onChange={(e) => setCountry(e.target.value.trim())}
        />
        <label htmlFor="import-concurrency">Rows imported at a time</label>
        <input
          id="import-concurrency"
          type="number"
          min={1}
          max={16}
          value={concurrency}
          onChange={(e) => setConcurrency(Math.min(16, Math.max(1, Number(e.target.value) || 1)))}
        />
      </div>
      <ErrorNote error={readError} />
      {file && checked && (
        <section aria-label="Check" className="stack">
          <h2>{file.name}</h2>
          <CheckResult checked={checked} />
          {checked.bad.length > 0 && checked.good.length > 0 && (
            <label>
              <input type="checkbox" checked={onlyGood} onChange={(e) => setOnlyGood(e.target.checked)} />{" "}
              Leave out the rows with problems and import only the {rowsOf(checked.good.length, "good")}
            </label>
          )}
          <button type="button" disabled={blocked} onClick={start}>
            Import {rowsOf(checked.good.length)}
          </button>
        </section>
      )}
      {progress && <ImportProgress progress={progress} />}
    </>
  );
}

export function Imports() {
  const sets = useImportSets();
  return (
    <>
      <h1>Imports</h1>
      <Loaded query={sets}>{(list) => <ImportForm sets={list} />}</Loaded>
    </>
  );
}
