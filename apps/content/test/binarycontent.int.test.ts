import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { BinaryContent, Message } from "@tidings/contracts";
import { expectError } from "@tidings/testing";
import { describe, expect } from "vitest";
import { type ContentHarness, contentTest, startContent } from "./support.ts";

const PATH = "/api/v1/binarycontent/";
const MAX_BYTES = 1024;

const it = contentTest({
  CONTENT_MEDIA_MAX_BYTES: String(MAX_BYTES),
  CONTENT_MEDIA_TYPES: "image/png,audio/*",
  PUBLIC_URL: "https://content.example.org/base/",
});

const files = (t: ContentHarness) => readdir(t.mediaDir);
const keyOf = (binary: BinaryContent) => binary.content.split("/").at(-1) as string;

describe("POST /api/v1/binarycontent/", () => {
  it("stores the file on disk and answers {id, content (its public URL), ...}", async ({ t }) => {
    const data = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3, 255]);
    const res = await t.upload({ filename: "Baby Week 1.PNG", type: "image/png", data });
    expect(res.status).toBe(201);
    const binary: BinaryContent = res.body;
    expect(binary).toEqual({
      id: expect.any(Number),
      content: expect.stringMatching(
        /^https:\/\/content\.example\.org\/base\/media\/[0-9]{20}[0-9a-f]{16}\.png$/,
      ),
      filename: "Baby Week 1.PNG",
      mime_type: "image/png",
      size: data.length,
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    expect(res.headers.location).toBe(`${PATH}${binary.id}/`);
    expect(await readFile(join(t.mediaDir, keyOf(binary)))).toEqual(data);
    expect((await t.call("GET", `${PATH}${binary.id}/`)).body).toEqual(binary);
  });

  it("serves the file back at its URL without a token, with its type", async ({ t }) => {
    const data = Buffer.from("ID3 fake mp3 bytes");
    const res = await t.upload({ filename: "week1.mp3", type: "audio/mpeg", data });
    expect(res.status).toBe(201);
    const served = await t.svc.app.inject({ method: "GET", url: `/media/${keyOf(res.body)}` });
    expect(served.statusCode).toBe(200);
    expect(served.headers["content-type"]).toBe("audio/mpeg");
    expect(served.headers["x-content-type-options"]).toBe("nosniff");
    expect(served.rawPayload).toEqual(data);
  });

  it("404s unknown and malformed media keys (no path traversal)", async ({ t }) => {
    for (const key of ["20260101000000000000aaaaaaaaaaaaaaaa.png", "..%2F..%2Fetc%2Fpasswd", "x"]) {
      const res = await t.svc.app.inject({ method: "GET", url: `/media/${key}` });
      expect(res.statusCode, key).toBe(404);
      expect(res.json().error.code).toBe("CONTENT_MEDIA_NOT_FOUND");
    }
  });

  it("lists uploads in id order", async ({ t }) => {
    const a = await t.createBinary("a");
    const b = await t.createBinary("b");
    const page = (await t.call("GET", `${PATH}?limit=1000`)).body;
    expect(page.results.slice(-2)).toEqual([a, b]);
    expect(page.count).toBe(page.results.length);
  });

  describe("errors: nothing stored", () => {
    const rejects = async (
      t: ContentHarness,
      send: () => ReturnType<ContentHarness["upload"]>,
      status: number,
      code: string,
    ) => {
      const before = { rows: await t.svc.db.binaryContent.count(), files: (await files(t)).length };
      const res = await send();
      expect(res.status, JSON.stringify(res.body)).toBe(status);
      expect(res.body.error.code).toBe(code);
      expect({ rows: await t.svc.db.binaryContent.count(), files: (await files(t)).length }).toEqual(before);
      return res.body.error;
    };

    it("413s a file over CONTENT_MEDIA_MAX_BYTES, and takes one of exactly that size", async ({ t }) => {
      const error = await rejects(
        t,
        () => t.upload({ filename: "big.png", type: "image/png", data: Buffer.alloc(MAX_BYTES + 1) }),
        413,
        "CONTENT_BINARY_TOO_LARGE",
      );
      expect(error.message).toContain(String(MAX_BYTES));
      expect(
        (await t.upload({ filename: "max.png", type: "image/png", data: Buffer.alloc(MAX_BYTES, 1) })).status,
      ).toBe(201);
    });

    it("400s a type not in CONTENT_MEDIA_TYPES, naming the allowed ones", async ({ t }) => {
      const error = await rejects(
        t,
        () => t.upload({ filename: "page.html", type: "text/html", data: "<script>alert(1)</script>" }),
        400,
        "CONTENT_BINARY_TYPE_NOT_ALLOWED",
      );
      expect(error.message).toContain("image/png, audio/*");
    });

    it("reads a part sent without a type by its file name, as seed-services-client sends one", async ({
      t,
    }) => {
      const res = await t.upload({ filename: "week1.mp3", type: null, data: "ID3-audio" });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ filename: "week1.mp3", mime_type: "audio/mpeg" });
      await rejects(
        t,
        () => t.upload({ filename: "notes.txt", type: null, data: "text" }),
        400,
        "CONTENT_BINARY_TYPE_NOT_ALLOWED",
      );
    });

    it("400s a request without a file in the field content", async ({ t }) => {
      await rejects(t, () => t.upload(undefined, { content: "just text" }), 400, "CONTENT_BINARY_MISSING");
      await rejects(
        t,
        () => t.upload({ field: "file", filename: "a.png", type: "image/png", data: "x" }),
        400,
        "CONTENT_BINARY_MISSING",
      );
    });

    it("400s an empty file and a JSON body", async ({ t }) => {
      await rejects(
        t,
        () => t.upload({ filename: "a.png", type: "image/png", data: "" }),
        400,
        "CONTENT_BINARY_EMPTY",
      );
      await rejects(
        t,
        async () => {
          const res = await t.call("POST", PATH, { content: "x" });
          return { ...res, body: res.body };
        },
        400,
        "CONTENT_BINARY_NOT_MULTIPART",
      );
    });

    it("401s an upload without a token", async ({ t }) => {
      const res = await t.upload({ filename: "a.png", type: "image/png", data: "x" }, {}, {});
      expect(res.status).toBe(401);
    });
  });
});

describe("DELETE /api/v1/binarycontent/:id/", () => {
  it("deletes the row and its file", async ({ t }) => {
    const binary = await t.createBinary("to delete");
    expect(await files(t)).toContain(keyOf(binary));
    expect((await t.call("DELETE", `${PATH}${binary.id}/`)).status).toBe(204);
    expect(await files(t)).not.toContain(keyOf(binary));
    expect((await t.call("GET", `${PATH}${binary.id}/`)).status).toBe(404);
    expect((await t.svc.app.inject({ method: "GET", url: `/media/${keyOf(binary)}` })).statusCode).toBe(404);
  });

  it("409s content a message uses, naming the messages, and keeps the file", async ({ t, set }) => {
    const binary = await t.createBinary("in use");
    const message = await t.create<Message>("/api/v1/message/", {
      messageset: set.id,
      sequence_number: 1,
      lang: "eng_ZA",
      binary_content: binary.id,
    });
    const res = await t.call("DELETE", `${PATH}${binary.id}/`);
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({
      code: "CONTENT_BINARY_IN_USE",
      details: { messages: [message.id] },
    });
    expect(await files(t)).toContain(keyOf(binary));
    expect((await t.call("GET", `${PATH}${binary.id}/`)).body).toEqual(binary);

    // Once the message lets go of it, it can be deleted.
    await t.call("PATCH", `/api/v1/message/${message.id}/`, {
      text_content: "text now",
      binary_content: null,
    });
    expect((await t.call("DELETE", `${PATH}${binary.id}/`)).status).toBe(204);
  });

  it("404s unknown content", async ({ t }) => {
    const res = await t.call("DELETE", `${PATH}999999/`);
    expectError(res, 404, "CONTENT_BINARY_NOT_FOUND");
  });
});

describe("messages with binary content", () => {
  it("nests the binary content in GET /message/{id}/content and gives its URL in the event", async ({
    t,
    set,
  }) => {
    const binary = await t.createBinary("image bytes", "week2.png");
    const message = await t.create<Message>("/api/v1/message/", {
      messageset: set.id,
      sequence_number: 2,
      lang: "eng_ZA",
      text_content: "See the picture",
      binary_content: binary.id,
    });
    expect(message.binary_content_url).toBe(binary.content);
    expect((await t.event<Message>("content.message.changed", message.id)).binary_content_url).toBe(
      binary.content,
    );
    const res = await t.call("GET", `/api/v1/message/${message.id}/content`);
    expect(res.status).toBe(200);
    const { binary_content_url: _url, ...rest } = message;
    expect(res.body).toEqual({ ...rest, binary_content: binary });
  });
});

describe("defaults", () => {
  it("creates the storage directory when missing, and takes files up to 10 MiB", async ({ t }) => {
    const dir = join(t.mediaDir, "nested", "deeper");
    const other = await startContent({ CONTENT_MEDIA_DIR: dir });
    try {
      const res = await other.upload({ filename: "a.png", type: "image/png", data: "x" });
      expect(res.status).toBe(201);
      expect(await readdir(dir)).toEqual([keyOf(res.body)]);
      // The default limit (10 MiB) is the one that counts, not fastify's 5 MiB JSON body limit.
      const big = Buffer.alloc(6 * 1024 * 1024, 7);
      const large = await other.upload({ filename: "big.png", type: "image/png", data: big });
      expect(large.status).toBe(201);
      expect(large.body.size).toBe(big.length);
    } finally {
      await other.close();
    }
  });
});
