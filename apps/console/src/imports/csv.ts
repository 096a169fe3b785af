/**
 * A CSV of people read with papaparse (quoted fields, embedded commas and line breaks, a byte-order mark, CRLF or
 * LF): its column names (trimmed, lower-cased) and each record with its row number as a spreadsheet shows it (the
 * header is row 1). Blank lines (or lines of empty fields) are skipped; a record with more or fewer fields than the header keeps the problem.
 */
import Papa from "papaparse";

export interface CsvRecord {
  /** The row number a spreadsheet shows (the header is row 1, the first person row 2). */
  row: number;
  values: Record<string, string>;
  /** What papaparse found wrong with this record (a field count that differs from the header's, a stray quote). */
  problem?: string;
}

export interface CsvFile {
  columns: string[];
  records: CsvRecord[];
}

export function parseCsv(text: string): CsvFile {
  // Blank lines are dropped below rather than by papaparse, so that row numbers count them as a spreadsheet does.
  const result = Papa.parse<string[]>(text.replace(/^\uFEFF/, ""));
  const [header = [], ...lines] = result.data;
  const columns = header.map((name) => name.trim().toLowerCase());
  const problems = new Map<number, string>();
  for (const error of result.errors) {
    if (error.row !== undefined && !problems.has(error.row)) {
      problems.set(error.row, error.message);
    }
  }
  const records = lines.flatMap((fields, index): CsvRecord[] => {
    if (fields.every((field) => field.trim() === "")) {
      return [];
    }
    const values: Record<string, string> = {};
    columns.forEach((column, i) => {
      values[column] = (fields[i] ?? "").trim();
    });
    const problem =
      problems.get(index + 1) ??
      (fields.length !== columns.length
        ? `it has ${fields.length} fields where the header has ${columns.length}`
        : undefined);
    return [{ row: index + 2, values, ...(problem ? { problem } : {}) }];
  });
  return { columns, records };
}
