import { describe, expect, it } from "vitest";
import { ApiError } from "./errors.ts";
import {
  type Cursor,
  decodeCursor,
  encodeCursor,
  keysetRows,
  offsetCursors,
  type Position,
  readOrder,
} from "./keyset.ts";

const ID = "0c6c7b5e-6d2a-4f0a-9d7e-3f3c1c1d2b01";
/** Rows newest first, one second apart: row i was made at second 10 - i. */
const rows = Array.from({ length: 5 }, (_, i) => ({
  createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, 10 - i)),
  id: `${i}`.padStart(8, "0") + ID.slice(8),
}));
const at = (i: number, before = false): Cursor => {
  const { createdAt, id } = rows[i] as Position;
  return { createdAt, id, before };
};

describe("cursors", () => {
  it("round-trip, a previous link's with its direction", () => {
    for (const cursor of [at(1), at(2, true)]) {
      expect(decodeCursor(encodeCursor(cursor))).toEqual(cursor);
    }
    expect(decodeCursor("")).toBeNull();
  });

  it.for(["garbage", Buffer.from('["2026-01-01T00:00:00Z","x"]').toString("base64url"), "W10"])(
    "refuses one not issued here with 400 INVALID_CURSOR: %s",
    (cursor) => {
      expect(() => decodeCursor(cursor)).toThrow(ApiError);
      expect(() => decodeCursor(cursor)).toThrow(expect.objectContaining({ code: "INVALID_CURSOR" }));
    },
  );
});

describe("keysetRows", () => {
  it("takes a page past a next cursor, with the cursors beside it", () => {
    // rows 2.. read after row 1
    const page = keysetRows(rows.slice(2, 5), at(1), 2);
    expect(page).toEqual({ rows: rows.slice(2, 4), previous: at(2, true), next: at(3) });
    expect(keysetRows(rows.slice(4), at(3), 2)).toEqual({
      rows: rows.slice(4),
      previous: at(4, true),
      next: null,
    });
  });

  it("takes a page before a previous cursor, read the other way, in the list's order", () => {
    expect(readOrder(at(3, true), "desc")).toBe("asc");
    // before row 3: rows 2, 1, 0 read oldest first
    const page = keysetRows([rows[2], rows[1], rows[0]] as typeof rows, at(3, true), 2);
    expect(page).toEqual({ rows: rows.slice(1, 3), previous: at(1, true), next: at(2) });
    expect(keysetRows([rows[0]] as typeof rows, at(1, true), 2)).toEqual({
      rows: rows.slice(0, 1),
      previous: null,
      next: at(0),
    });
  });

  it("gives the first keyset page (cursor=) no previous", () => {
    expect(keysetRows(rows.slice(0, 3), null, 2)).toEqual({
      rows: rows.slice(0, 2),
      previous: null,
      next: at(1),
    });
  });
});

describe("offsetCursors", () => {
  it("links an offset page by its first and last rows", () => {
    expect(offsetCursors(rows.slice(0, 2), { limit: 2, offset: 0 }, 5)).toEqual({
      previous: null,
      next: at(1),
    });
    expect(offsetCursors(rows.slice(2, 4), { limit: 2, offset: 2 }, 5)).toEqual({
      previous: at(2, true),
      next: at(3),
    });
    expect(offsetCursors(rows.slice(4), { limit: 2, offset: 4 }, 5)).toEqual({
      previous: at(4, true),
      next: null,
    });
  });
});
