import { describe, expect, it } from "vitest";
import { canonicalJson } from "./idempotency.ts";

describe("canonicalJson", () => {
  it("sorts object keys at every depth and keeps array order", () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}',
    );
    expect(canonicalJson({ a: 1, b: 2 })).toBe(canonicalJson({ b: 2, a: 1 }));
    expect(canonicalJson([1, 2])).not.toBe(canonicalJson([2, 1]));
  });

  it("tells apart values JSON tells apart, and drops undefined properties as JSON does", () => {
    expect(canonicalJson({ a: "1" })).not.toBe(canonicalJson({ a: 1 }));
    expect(canonicalJson({ a: undefined, b: 1 })).toBe('{"b":1}');
    expect(canonicalJson(undefined)).toBe("null");
    expect(canonicalJson('a"b')).toBe('"a\\"b"');
  });

  it("hashes a raw body by its bytes", () => {
    expect(canonicalJson(Buffer.from("abc"))).toBe('"YWJj"');
    expect(canonicalJson(Buffer.from("abc"))).not.toBe(canonicalJson(Buffer.from("abd")));
  });
});
