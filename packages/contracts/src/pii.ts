/** 9-15 digits, optionally with a leading + and single space/hyphen separators, standing alone (not part of
 * an IP address, a uuid, a timestamp, a decimal or a word). A "." or ":" next to it only counts as part of
 * something larger when a digit is on its other side: "to +27820001001: rejected" is masked. */
const PHONE = /(?<![\w+-]|\d[.:])\+?\d(?:[ -]?\d){8,14}(?![\w-]|[.:]\d)/g;
const EMAIL = /[^\s@<>"']+@[^\s@<>"']+\.[^\s@<>"']+/g;

/**
 * Masks phone numbers and email addresses inside free text (error messages, log lines, the error a retried or
 * dead-lettered message carries).
 */
export function maskPii(text: string | null | undefined): string {
  // Error messages passed here may be missing (an SDK's error without one): never throw while reporting an error.
  return (text ?? "").replace(EMAIL, "[email]").replace(PHONE, "[phone]");
}
