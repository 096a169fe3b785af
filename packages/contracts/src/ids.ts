import { createHash } from "node:crypto";

/** Tidings' UUIDv5 namespace for ids derived from natural keys. */
const NAMESPACE = Buffer.from("6f1d8a52-3c4b-4e8a-9b7e-2d5c1a0f9e37".replaceAll("-", ""), "hex");

/**
 * A name-based UUID (RFC 9562 v5): the same parts always give the same id, so a retried step that derives
 * its id from what it is about (subscription, set, sequence) collides with its first attempt instead of
 * doing the work twice.
 */
export function deterministicId(...parts: (string | number)[]): string {
  const hash = createHash("sha1").update(NAMESPACE).update(parts.join("\u001f")).digest();
  hash[6] = ((hash[6] as number) & 0x0f) | 0x50;
  hash[8] = ((hash[8] as number) & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether a value is a UUID (any version, either case), as the `Uuid` schema accepts it. */
export const isUuid = (value: unknown): value is string => typeof value === "string" && UUID.test(value);
