import { describe, expect, it } from "vitest";
import { isGsm7Character, type SmsEncoding, smsInfo, smsSegments } from "../src/index.ts";

// The corpus: boundary cases generated family by family, each family's expected count derived by hand
// (a closed form per family), never by calling the code under test.

interface Case {
  name: string;
  text: string;
  encoding: SmsEncoding;
  segments: number;
  units: number;
}

const GSM_BASIC_SAMPLE = [..."@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./09:;<=>?¡AZÄÖÑÜ§¿azäöñüà"];
const GSM_EXTENSION = [..."\f^{}\\[~]|€"];
const NON_GSM_BMP = [..."çáÁíóúâêîôûãõ’“”–—…\tЯ中ع"];
const EMOJI = ["😀", "👍", "🇿", "𝄞", "🤰"];

const ceil = Math.ceil;
const gsmPlain = (n: number) => (n === 0 ? 0 : n <= 160 ? 1 : ceil(n / 153));
const ucsPlain = (n: number) => (n === 0 ? 0 : n <= 70 ? 1 : ceil(n / 67));
const LENGTHS = [
  0, 1, 2, 69, 70, 71, 134, 135, 153, 154, 159, 160, 161, 200, 201, 305, 306, 307, 459, 460, 612, 613, 1000,
];

const corpus: Case[] = [];
const add = (name: string, text: string, encoding: SmsEncoding, segments: number, units: number) =>
  corpus.push({ name, text, encoding, segments, units });

// 1. Plain GSM-7 text at every length boundary: 160 alone, 153 per part.
for (const n of LENGTHS) {
  add(`gsm "a" x${n}`, "a".repeat(n), "GSM-7", gsmPlain(n), n);
}
// 2. Every sampled basic character, 160 and 161 times: one septet each.
for (const c of GSM_BASIC_SAMPLE) {
  add(`basic ${JSON.stringify(c)} x160`, c.repeat(160), "GSM-7", 1, 160);
  add(`basic ${JSON.stringify(c)} x161`, c.repeat(161), "GSM-7", 2, 161);
}
// 3. Every extension character counts double: 80 fit one SMS, 81 do not; 76 per part (152 of 153 septets,
//    as an escape pair is never split), so 153 of them take 3 parts where 306/153 would say 2.
for (const c of GSM_EXTENSION) {
  for (const n of [1, 80, 81, 76 * 2, 76 * 2 + 1, 153]) {
    add(`extension ${JSON.stringify(c)} x${n}`, c.repeat(n), "GSM-7", n <= 80 ? 1 : ceil(n / 76), 2 * n);
  }
}
// 4. One extension character at the part boundary: after 152 septets it cannot fit in part 1 (one septet
//    left), so it starts part 2; after 151 it fills part 1 exactly.
for (const m of [0, 1, 7, 8, 9, 150, 151, 152, 300]) {
  const text152 = `${"a".repeat(152)}€${"a".repeat(m)}`;
  const units152 = 154 + m;
  add(`152 a + € + ${m} a`, text152, "GSM-7", units152 <= 160 ? 1 : 1 + ceil((2 + m) / 153), units152);
  const text151 = `${"a".repeat(151)}€${"a".repeat(m)}`;
  const units151 = 153 + m;
  add(`151 a + € + ${m} a`, text151, "GSM-7", units151 <= 160 ? 1 : 1 + ceil(m / 153), units151);
}
// 5. Extension characters at 159/160/161 septets of a single SMS.
for (const k of [157, 158, 159, 160]) {
  const units = k + 2;
  const segments = units <= 160 ? 1 : k >= 152 ? 1 + ceil((k - 152 + 2) / 153) : 2;
  add(`${k} a + {`, `${"a".repeat(k)}{`, "GSM-7", segments, units);
  add(`{ + ${k} a`, `{${"a".repeat(k)}`, "GSM-7", units <= 160 ? 1 : ceil(units / 153), units);
}
// 6. "a" then n euros: part 1 is a + 76 euros (153), later parts 76 euros (152).
for (const n of [79, 80, 152, 153, 228, 229]) {
  const units = 1 + 2 * n;
  add(`a + € x${n}`, `a${"€".repeat(n)}`, "GSM-7", units <= 160 ? 1 : ceil(n / 76), units);
}
// 7. UCS-2 BMP text (one unit per character) at every length boundary: 70 alone, 67 per part.
for (const n of LENGTHS.filter((n) => n > 0)) {
  add(`ucs "я" x${n}`, "я".repeat(n), "UCS-2", ucsPlain(n), n);
}
// 8. Each non-GSM BMP character forces UCS-2 on otherwise GSM text; and extension characters then count once.
for (const c of NON_GSM_BMP) {
  add(`${JSON.stringify(c)} + 69 a`, `${c}${"a".repeat(69)}`, "UCS-2", 1, 70);
  add(`${JSON.stringify(c)} + 70 a`, `${c}${"a".repeat(70)}`, "UCS-2", 2, 71);
  add(`${JSON.stringify(c)} + 159 a (GSM would fit)`, `${c}${"a".repeat(159)}`, "UCS-2", 3, 160);
  add(`${JSON.stringify(c)} + 40 €`, `${c}${"€".repeat(40)}`, "UCS-2", 1, 41);
}
// 9. Emoji: a surrogate pair is two units; 35 fit one SMS, then 33 per part (66 of 67 units: a pair is never
//    split), so 67 emoji take 3 parts where 134/67 would say 2.
for (const e of EMOJI) {
  for (const n of [1, 34, 35, 36, 66, 67, 99, 100]) {
    add(`${e} x${n}`, e.repeat(n), "UCS-2", n <= 35 ? 1 : ceil(n / 33), 2 * n);
  }
}
// 10. One emoji after k GSM characters (emoji at positions 69/70/71 and at the part boundary 67).
const emojiAfter = (k: number) => {
  const units = k + 2;
  if (units <= 70) {
    return 1;
  }
  const full = Math.floor(k / 67);
  return k % 67 === 66 ? full + 2 : full + 1;
};
for (const k of [0, 1, 65, 66, 67, 68, 69, 70, 71, 132, 133, 134, 200, 199]) {
  add(`${k} a + 😀`, `${"a".repeat(k)}😀`, "UCS-2", emojiAfter(k), k + 2);
}
// 11. "я" then n emoji: part 1 is я + 33 emoji (67), later parts 33 emoji.
for (const n of [34, 35, 66, 67]) {
  add(`я + 😀 x${n}`, `я${"😀".repeat(n)}`, "UCS-2", 1 + 2 * n <= 70 ? 1 : ceil(n / 33), 1 + 2 * n);
}

describe("smsInfo corpus", () => {
  it("has at least 200 boundary cases", () => {
    expect(corpus.length).toBeGreaterThanOrEqual(200);
  });

  it.each(corpus.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const info = smsInfo(c.text);
    expect({ encoding: info.encoding, segments: info.segments, units: info.units }).toEqual({
      encoding: c.encoding,
      segments: c.segments,
      units: c.units,
    });
  });
});

describe("smsInfo details", () => {
  it("names the characters that forced UCS-2, once each, in order", () => {
    expect(smsInfo("It’s “ok” – it’s fine 😀").nonGsmCharacters).toEqual(["’", "“", "”", "–", "😀"]);
    expect(smsInfo("Plain {text} €5").nonGsmCharacters).toEqual([]);
  });

  it("knows the GSM-7 alphabet, including the extension table, and not the escape itself", () => {
    expect(isGsm7Character("€")).toBe(true);
    expect(isGsm7Character("Ç")).toBe(true);
    expect(isGsm7Character("ç")).toBe(false);
    expect(isGsm7Character("\u001b")).toBe(false);
    expect(isGsm7Character("`")).toBe(false);
  });

  it("counts a real message the way a phone does", () => {
    const text =
      "Hello! Your clinic visit is on Tue 12/03 at 09:00. Bring your card {ref: 42}. Reply STOP to opt out.";
    expect(smsInfo(text)).toEqual({
      encoding: "GSM-7",
      segments: 1,
      units: text.length + 2,
      nonGsmCharacters: [],
    });
  });
});

describe("smsSegments", () => {
  it("splits as the segments are counted: 153 septets or 67 code units per part, never a pair", () => {
    expect(smsSegments("a".repeat(160))).toEqual(["a".repeat(160)]);
    expect(smsSegments("a".repeat(400)).map((s) => s.length)).toEqual([153, 153, 94]);
    // An extension character (two septets) that would straddle the boundary starts the next part.
    const straddling = smsSegments(`${"a".repeat(152)}€${"b".repeat(10)}`);
    expect(straddling).toEqual(["a".repeat(152), `€${"b".repeat(10)}`]);
    expect(smsSegments("ж".repeat(140)).map((s) => s.length)).toEqual([67, 67, 6]);
    // A surrogate pair (two code units) is not split either.
    expect(smsSegments(`${"ж".repeat(66)}😀ж${"ж".repeat(10)}`).map((s) => s.length)).toEqual([66, 13]);
    expect(smsSegments("")).toEqual([]);
    for (const text of ["a".repeat(400), "ж".repeat(140), `${"a".repeat(152)}€`]) {
      expect(smsSegments(text).join("")).toBe(text);
      expect(smsSegments(text)).toHaveLength(smsInfo(text).segments);
    }
  });
});
