import type { FastifyRequest } from "fastify";
import { describe, expect, it } from "vitest";
import { refuseUnstorableText, unstorableTextAt } from "./text.ts";

describe("unstorableTextAt", () => {
  it("finds a NUL or an unpaired surrogate in strings and keys, at any depth", () => {
    expect(unstorableTextAt({ a: "ok", b: ["fine", { c: "x\u0000y" }] }, "body")).toBe("body.b.1.c");
    expect(unstorableTextAt({ a: "\ud800" }, "body")).toBe("body.a");
    expect(unstorableTextAt({ a: "x\udc00" }, "body")).toBe("body.a");
    expect(unstorableTextAt({ "k\u0000": 1 }, "querystring")).toBe("querystring.k?");
    let deep: unknown = "\u0000";
    for (let i = 0; i < 100_000; i++) {
      deep = [deep];
    }
    expect(unstorableTextAt(deep, "body")).toMatch(/^body(\.0)+$/);
  });

  it("accepts well-formed text, surrogate pairs included, and non-strings", () => {
    expect(
      unstorableTextAt({ a: "Ünïcødé 🎉 \ud83d\ude00", b: 1, c: null, d: [true] }, "body"),
    ).toBeUndefined();
    expect(unstorableTextAt(undefined, "params")).toBeUndefined();
  });

  it("walks only parsed JSON: a body streamed through unparsed (an object graph with cycles) is passed over", () => {
    class Stream {
      self: unknown = this;
      text = "\u0000";
    }
    const stream = new Stream();
    expect(unstorableTextAt(stream, "body")).toBeUndefined();
    expect(unstorableTextAt({ parsed: [{ nested: "\u0000" }] }, "body")).toBe("body.parsed.0.nested");
    expect(unstorableTextAt(Object.assign(Object.create(null), { k: "\u0000" }), "querystring")).toBe(
      "querystring.k",
    );
  });

  it("refuses NUL in a query string or path parameter whatever the prototype of their parsed objects", async () => {
    // fast-querystring's result: an object whose prototype is a null-prototype object
    const query = Object.assign(Object.create(Object.create(null)), { email: "\u0000" });
    const request = { params: {}, query, body: undefined } as unknown as FastifyRequest;
    await expect(refuseUnstorableText(request)).rejects.toMatchObject({
      statusCode: 400,
      details: [{ field: "querystring.email", message: expect.any(String) }],
    });
  });
});
