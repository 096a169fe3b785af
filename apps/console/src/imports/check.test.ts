import { describe, expect, it } from "vitest";
import { type CheckOptions, checkRows, type ImportSet } from "./check.ts";
import { parseCsv } from "./csv.ts";

const prenatal: ImportSet = {
  id: 1,
  short_name: "prenatal",
  default_schedule: 7,
  languages: ["eng_ZA", "zul_ZA"],
};
const baby: ImportSet = { id: 2, short_name: "baby", default_schedule: 8, languages: ["eng_ZA"] };
const options: CheckOptions = { sets: [prenatal, baby], defaultSet: 1 };
const check = (csv: string, extra: Partial<CheckOptions> = {}) =>
  checkRows(parseCsv(csv), { ...options, ...extra });

describe("parseCsv", () => {
  it("reads quoted fields with commas, quotes and line breaks, a BOM and CRLF; skips blank lines", () => {
    const csv =
      '\uFEFFNumber,Language,Name\r\n+27820001001,eng_ZA,"Dlamini, ""Thandi""\r\nB."\r\n\r\n+27820001002,zul_ZA,Sipho\r\n';
    expect(parseCsv(csv)).toEqual({
      columns: ["number", "language", "name"],
      records: [
        { row: 2, values: { number: "+27820001001", language: "eng_ZA", name: 'Dlamini, "Thandi"\r\nB.' } },
        { row: 4, values: { number: "+27820001002", language: "zul_ZA", name: "Sipho" } },
      ],
    });
  });

  it("keeps a record whose field count differs from the header's, with the problem", () => {
    const { records } = parseCsv("number,language\n+27820001001,eng_ZA,extra\n+27820001002\n");
    expect(records.map((r) => [r.row, r.problem])).toEqual([
      [2, "it has 3 fields where the header has 2"],
      [3, "it has 1 fields where the header has 2"],
    ]);
  });
});

describe("checkRows", () => {
  it("normalises good rows and keeps the other columns as details", () => {
    const result = check(
      "msisdn,lang,Email,name,clinic\n+27 82 000 1001,zul_ZA, Thandi@Example.ORG ,Thandi,\n",
      {},
    );
    expect(result).toEqual({
      fileErrors: [],
      bad: [],
      good: [
        {
          row: 2,
          number: "+27820001001",
          language: "zul_ZA",
          email: "thandi@example.org",
          set: prenatal,
          details: { name: "Thandi" },
        },
      ],
    });
  });

  it("lists every bad row with its row number and reasons", () => {
    const csv = [
      "number,language,email,messageset",
      "+27820001001,eng_ZA,,",
      "not-a-number,eng_ZA,,",
      ",,,prenatal",
      "+27 82 000 1001,eng_ZA,,",
      "+27820001003,xho_ZA,nope,",
      "+27820001004,zul_ZA,,baby",
      "+27820001005,eng_ZA,,toddler",
      "+27820001006,eng_ZA,,2",
    ].join("\n");
    const result = check(csv);
    expect(result.fileErrors).toEqual([]);
    expect(result.good.map((r) => [r.row, r.set.short_name])).toEqual([
      [2, "prenatal"],
      [9, "baby"],
    ]);
    expect(result.bad).toEqual([
      { row: 3, reasons: ['"not-a-number" is not a valid phone number.'] },
      { row: 4, reasons: ["The number is missing.", "The language is missing."] },
      { row: 5, reasons: ["The number +27820001001 is also on row 2."] },
      {
        row: 6,
        reasons: [
          'prenatal has no messages in "xho_ZA" (it has eng_ZA, zul_ZA).',
          '"nope" is not a valid email address.',
        ],
      },
      { row: 7, reasons: ['baby has no messages in "zul_ZA" (it has eng_ZA).'] },
      { row: 8, reasons: ['There is no message set "toddler".'] },
    ]);
  });

  it("reads national numbers with the chosen country only", () => {
    expect(check("number,language\n0820001001,eng_ZA\n").bad).toEqual([
      { row: 2, reasons: ['"0820001001" is not a valid phone number.'] },
    ]);
    expect(check("number,language\n0820001001,eng_ZA\n", { defaultCountry: "ZA" }).good[0]?.number).toBe(
      "+27820001001",
    );
  });

  it.for([
    ["no number", "name,language\nThandi,eng_ZA\n", ['The file has no "number" column.']],
    ["no language", "number\n+27820001001\n", ['The file has no "language" column.']],
    [
      "two number columns",
      "number,msisdn,language\n",
      ['Columns "number" and "msisdn" both give the number.', "The file has no rows."],
    ],
    [
      "an addresses column",
      "number,language,addresses\n+27820001001,eng_ZA,x\n",
      ['A column cannot be called "addresses".'],
    ],
  ] as const)("refuses the whole file: %s", ([, csv, errors]) => {
    expect(check(csv)).toEqual({ fileErrors: errors, good: [], bad: [] });
  });

  it("needs a message set chosen or a messageset column", () => {
    expect(check("number,language\n+27820001001,eng_ZA\n", { defaultSet: null }).fileErrors).toEqual([
      'Choose a message set, or give each row one in a "messageset" column.',
    ]);
    expect(check("number,language,messageset\n+27820001001,eng_ZA,\n", { defaultSet: null }).bad).toEqual([
      { row: 2, reasons: ["The row names no message set, and none is chosen."] },
    ]);
  });
});
