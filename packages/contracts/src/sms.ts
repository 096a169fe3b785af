// SMS encoding and segment counting (3GPP TS 23.038 / 23.040), shared by content (what authors see) and
// message-sender (rate limits and cost). Pure: no I/O.
import Type, { type Static } from "typebox";

/** GSM 03.38 basic character set (the escape, 0x1B, is not a character an author can type). */
const GSM_BASIC =
  "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
  "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

/** GSM 03.38 extension table: each is sent as ESC + the character, so it takes two septets. */
const GSM_EXTENSION = "\f^{}\\[~]|€";

const BASIC = new Set(GSM_BASIC);
const EXTENSION = new Set(GSM_EXTENSION);

export const SmsEncoding = Type.Union([Type.Literal("GSM-7"), Type.Literal("UCS-2")]);
export type SmsEncoding = Static<typeof SmsEncoding>;

/** Septets (GSM-7) or UTF-16 code units (UCS-2) per segment: one alone, or each of a concatenated message. */
export const SMS_LIMITS = {
  "GSM-7": { single: 160, multi: 153 },
  "UCS-2": { single: 70, multi: 67 },
} as const satisfies Record<SmsEncoding, { single: number; multi: number }>;

export interface SmsInfo {
  encoding: SmsEncoding;
  /** How many SMS the text is sent as (0 for an empty text). */
  segments: number;
  /** Its length in the encoding's units: septets for GSM-7, UTF-16 code units for UCS-2. */
  units: number;
  /** The characters that forced UCS-2, each once, in order of appearance (empty for GSM-7). */
  nonGsmCharacters: string[];
}

export const isGsm7Character = (char: string): boolean => BASIC.has(char) || EXTENSION.has(char);

/** The text's characters (code points, so a surrogate pair is one). */
const characters = (text: string): string[] => [...text];

/** A character's size in the encoding's units: septets (an extension character takes two) or UTF-16 code units. */
const sizeOf = (char: string, encoding: SmsEncoding): number =>
  encoding === "GSM-7" ? (EXTENSION.has(char) ? 2 : 1) : char.length;

const encodingOf = (text: string): SmsEncoding =>
  characters(text).every(isGsm7Character) ? "GSM-7" : "UCS-2";

/**
 * The text as a phone or SMSC splits it into segments (a concatenated SMS): one when it fits a single SMS,
 * otherwise greedily by the multi-part limit, never splitting an escape pair (GSM-7 extension character) or a
 * surrogate pair (UCS-2) across two segments. No segment for an empty text.
 */
export function smsSegments(text: string): string[] {
  const encoding = encodingOf(text);
  const { single, multi } = SMS_LIMITS[encoding];
  const chars = characters(text);
  const units = chars.reduce((sum, char) => sum + sizeOf(char, encoding), 0);
  if (units === 0) {
    return [];
  }
  if (units <= single) {
    return [text];
  }
  const segments: string[] = [];
  let current = "";
  let used = 0;
  for (const char of chars) {
    const size = sizeOf(char, encoding);
    if (used + size > multi) {
      segments.push(current);
      current = "";
      used = 0;
    }
    current += char;
    used += size;
  }
  segments.push(current);
  return segments;
}

/** The encoding an SMS of `text` needs and how many segments it takes. */
export function smsInfo(text: string): SmsInfo {
  const nonGsmCharacters = [...new Set(text)].filter((c) => !isGsm7Character(c));
  const encoding: SmsEncoding = nonGsmCharacters.length === 0 ? "GSM-7" : "UCS-2";
  const units = characters(text).reduce((sum, char) => sum + sizeOf(char, encoding), 0);
  return { encoding, segments: smsSegments(text).length, units, nonGsmCharacters };
}
