/**
 * Every row of an import checked before anything is written: the required columns, the number (a valid phone
 * number, normalised to E.164 as the identity service stores it), the language (one the message set has messages
 * in), the email when given, the message set (the one chosen, or the row's `messageset` column: a short name or an
 * id), and numbers that appear twice in the file. The good rows come out ready to import; the bad ones with their
 * row number and every reason.
 */
import { normaliseAddress } from "@tidings/contracts/addresses";
import type { CsvFile } from "./csv.ts";

/** A message set as the import needs it (content's message set, with the languages of its messages). */
export interface ImportSet {
  id: number;
  short_name: string;
  default_schedule: number;
  languages: string[];
}

export interface ImportRow {
  row: number;
  /** E.164. */
  number: string;
  language: string;
  email?: string;
  set: ImportSet;
  /** The other columns' non-empty values, kept in the identity's details. */
  details: Record<string, string>;
}

export interface BadRow {
  row: number;
  reasons: string[];
}

export interface CheckedFile {
  /** Problems with the file as a whole (a missing column): nothing in it can be imported. */
  fileErrors: string[];
  good: ImportRow[];
  bad: BadRow[];
}

export interface CheckOptions {
  sets: ImportSet[];
  /** The set every row is subscribed to, unless its `messageset` column names another. */
  defaultSet: number | null;
  /** The country of numbers written without their country code (e.g. "ZA"); without it they must start with +. */
  defaultCountry?: string;
}

/** Accepted spellings of each known column. */
const ALIASES: Record<string, string> = {
  number: "number",
  msisdn: "number",
  phone: "number",
  language: "language",
  lang: "language",
  lang_code: "language",
  email: "email",
  messageset: "messageset",
};
/** Columns that cannot be kept as details: the identity's own structure. */
const RESERVED = ["addresses"];

export function checkRows(file: CsvFile, options: CheckOptions): CheckedFile {
  const columnOf = new Map<string, string>();
  const fileErrors: string[] = [];
  for (const column of file.columns) {
    const known = ALIASES[column];
    if (known && columnOf.has(known)) {
      fileErrors.push(`Columns "${columnOf.get(known)}" and "${column}" both give the ${known}.`);
    } else if (known) {
      columnOf.set(known, column);
    } else if (RESERVED.includes(column) || column === "") {
      fileErrors.push(`A column cannot be called "${column}".`);
    }
  }
  for (const required of ["number", "language"]) {
    if (!columnOf.has(required)) {
      fileErrors.push(`The file has no "${required}" column.`);
    }
  }
  if (!columnOf.has("messageset") && options.defaultSet === null) {
    fileErrors.push('Choose a message set, or give each row one in a "messageset" column.');
  }
  if (file.records.length === 0) {
    fileErrors.push("The file has no rows.");
  }
  if (fileErrors.length > 0) {
    return { fileErrors, good: [], bad: [] };
  }
  const detailColumns = file.columns.filter((c) => !ALIASES[c]);
  const findSet = (name: string) =>
    options.sets.find((s) => s.short_name === name || String(s.id) === name) ?? null;
  const defaultSet = options.sets.find((s) => s.id === options.defaultSet) ?? null;
  const firstRowOf = new Map<string, number>();
  const good: ImportRow[] = [];
  const bad: BadRow[] = [];
  for (const record of file.records) {
    const value = (name: string) => record.values[columnOf.get(name) ?? ""] ?? "";
    const reasons: string[] = record.problem ? [`The row is malformed: ${record.problem}.`] : [];
    const number = normaliseAddress("msisdn", value("number"), options.defaultCountry);
    if (!value("number")) {
      reasons.push("The number is missing.");
    } else if (!number) {
      reasons.push(`"${value("number")}" is not a valid phone number.`);
    } else if (firstRowOf.has(number)) {
      reasons.push(`The number ${number} is also on row ${firstRowOf.get(number)}.`);
    } else {
      firstRowOf.set(number, record.row);
    }
    const setName = value("messageset");
    const set = setName ? findSet(setName) : defaultSet;
    if (setName && !set) {
      reasons.push(`There is no message set "${setName}".`);
    } else if (!set) {
      reasons.push("The row names no message set, and none is chosen.");
    }
    const language = value("language");
    if (!language) {
      reasons.push("The language is missing.");
    } else if (set && !set.languages.includes(language)) {
      reasons.push(
        `${set.short_name} has no messages in "${language}" (it has ${set.languages.join(", ") || "none"}).`,
      );
    }
    const email = value("email") ? normaliseAddress("email", value("email")) : undefined;
    if (email === null) {
      reasons.push(`"${value("email")}" is not a valid email address.`);
    }
    if (reasons.length > 0 || !number || !set) {
      bad.push({ row: record.row, reasons });
      continue;
    }
    const details = Object.fromEntries(
      detailColumns.map((c) => [c, record.values[c] ?? ""]).filter(([, v]) => v !== ""),
    );
    good.push({ row: record.row, number, language, set, details, ...(email ? { email } : {}) });
  }
  return { fileErrors, good, bad };
}
