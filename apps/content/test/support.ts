import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type BinaryContent,
  type ContentSchedule,
  type Message,
  type MessageName,
  type MessageSet,
  messageNames,
} from "@tidings/contracts";
import { adminAuth, captureMessages, closeAfter, startTestService, waitFor } from "@tidings/testing";
import { expect, test } from "vitest";
import { contentService } from "../src/service.ts";

/** Every event content publishes: the catalog's `content.*` messages. */
const EVENTS = messageNames.filter((name) => name.startsWith("content."));

/** A multipart/form-data body with one file part (and optional plain fields); `type` null: no Content-Type. */
export function multipartBody(
  file: { field?: string; filename: string; type: string | null; data: Buffer | string } | undefined,
  fields: Record<string, string> = {},
) {
  const boundary = `----tidings${Math.random().toString(16).slice(2)}`;
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) {
    parts.push(
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`),
    );
  }
  if (file) {
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${file.field ?? "content"}"; filename="${file.filename}"\r\n${file.type === null ? "" : `Content-Type: ${file.type}\r\n`}\r\n`,
      ),
      Buffer.isBuffer(file.data) ? file.data : Buffer.from(file.data),
      Buffer.from("\r\n"),
    );
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}

export type ContentHarness = Awaited<ReturnType<typeof startContent>>;

/** The content service with its worker (the outbox relay), recording every content event it publishes. */
export async function startContent(env: Record<string, string> = {}) {
  const mediaDir = await mkdtemp(join(tmpdir(), "tidings-content-media-"));
  const svc = await startTestService(contentService, {
    worker: true,
    env: { CONTENT_MEDIA_DIR: mediaDir, ...env },
  });
  const capture = await captureMessages(svc.namespace, EVENTS);

  /** An admin request, its body parsed. */
  const call = async (method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE", url: string, payload?: object) => {
    const res = await svc.app.inject({ method, url, headers: adminAuth, payload });
    return { status: res.statusCode, body: res.body ? res.json() : undefined, headers: res.headers };
  };

  /** Creates through the API; fails the test unless the answer is a 201. */
  const create = async <T = ContentSchedule>(path: string, payload: object): Promise<T> => {
    const res = await call("POST", path, payload);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  };

  let defaultSchedule: Promise<ContentSchedule> | undefined;
  /** The schedule of the sets `createSet` makes (Mondays and Thursdays at 08:00), created on first use. */
  const schedule = () => {
    defaultSchedule ??= create("/api/v1/schedule/", { minute: "0", hour: "8", day_of_week: "1,4" });
    return defaultSchedule;
  };

  let sets = 0;
  /** Creates a message set with a fresh `short_name` on `schedule()`; `payload` overrides any field. */
  const createSet = async (payload: object = {}) =>
    create<MessageSet>("/api/v1/messageset/", {
      short_name: `set.${++sets}`,
      default_schedule: (await schedule()).id,
      ...payload,
    });

  /** Creates a message of `set` (in eng_ZA unless `payload` says otherwise). */
  const createMessage = (set: MessageSet, payload: object) =>
    create<Message>("/api/v1/message/", { messageset: set.id, lang: "eng_ZA", ...payload });

  /** Uploads a file as multipart (field `content` unless told otherwise). */
  const upload = async (
    file: Parameters<typeof multipartBody>[0],
    fields: Record<string, string> = {},
    headers: Record<string, string> = adminAuth,
  ) => {
    const { payload, contentType } = multipartBody(file, fields);
    const res = await svc.app.inject({
      method: "POST",
      url: "/api/v1/binarycontent/",
      headers: { ...headers, "content-type": contentType },
      payload,
    });
    return { status: res.statusCode, body: res.json(), headers: res.headers };
  };

  /** Uploads a small PNG-typed file; fails the test unless the answer is a 201. */
  const createBinary = async (
    data = "not really a png",
    filename = "picture.png",
  ): Promise<BinaryContent> => {
    const res = await upload({ filename, type: "image/png", data });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  };

  /** Waits for the event `name` about entity `id`, and returns its payload. */
  const event = <T extends { id: number }>(name: MessageName, id: number) =>
    waitFor(() => capture.named<T>(name).find((e) => e.id === id), { what: `${name} for ${id}` });

  /** The names and ids of the events published since `from` (an index into the capture). */
  const eventsSince = (from: number) =>
    capture.messages.slice(from).map((m) => [m.name, (m.payload as { id: number }).id]);

  /**
   * Runs `action` and proves it published nothing. The relay publishes in commit order, so once the event of
   * a change made after `action` (a marker schedule) has arrived, an event of `action` would have arrived
   * before it; a first marker fences off the events of earlier changes still on their way.
   */
  const expectNoEvents = async (action: () => Promise<void>) => {
    const marker = async () => {
      const schedule = await create("/api/v1/schedule/", {});
      await event("content.schedule.changed", schedule.id);
      return schedule.id;
    };
    await marker();
    const from = capture.messages.length;
    await action();
    const last = await marker();
    expect(eventsSince(from)).toEqual([["content.schedule.changed", last]]);
  };

  /**
   * POSTs `payload` to `path` and proves the answer a 201 whose body equals `expected`, and the created entity
   * where the Location header says, announced as `name` and stored.
   */
  const expectCreated = async (path: string, payload: object, name: MessageName, expected: object) => {
    const res = await call("POST", path, payload);
    expect(res.status).toBe(201);
    const entity: { id: number } = res.body;
    expect(entity).toEqual(expected);
    expect(res.headers.location).toBe(`${path}${entity.id}/`);
    expect(await event(name, entity.id)).toEqual(entity);
    expect((await call("GET", `${path}${entity.id}/`)).body).toEqual(entity);
  };

  /** PATCHes each payload to `url`, each refused with 400 and its code; publishes nothing; `url` reads as `before`. */
  const expectPatchesRefused = async (
    url: string,
    cases: readonly (readonly [object, string])[],
    before: unknown,
  ) => {
    await expectNoEvents(async () => {
      for (const [payload, code] of cases) {
        const res = await call("PATCH", url, payload);
        expect(res.status).toBe(400);
        expect(res.body.error.code).toBe(code);
      }
    });
    expect((await call("GET", url)).body).toEqual(before);
  };

  /** Sends a request that must fail with `status` and `code`, store nothing and publish nothing. */
  const expectRejected = async (
    send: () => ReturnType<typeof call>,
    status: number,
    code: string,
    countRows: () => Promise<number>,
  ): Promise<{ code: string; message: string; details?: unknown }> => {
    let error = { code: "", message: "" };
    await expectNoEvents(async () => {
      const before = await countRows();
      const res = await send();
      expect(res.status, JSON.stringify(res.body)).toBe(status);
      expect(res.body.error.code).toBe(code);
      expect(await countRows()).toBe(before);
      error = res.body.error;
    });
    return error;
  };

  return {
    svc,
    mediaDir,
    capture,
    call,
    create,
    schedule,
    createSet,
    createMessage,
    upload,
    createBinary,
    event,
    eventsSince,
    expectNoEvents,
    expectCreated,
    expectPatchesRefused,
    expectRejected,
    async close() {
      await capture.stop();
      await svc.close();
      await rm(mediaDir, { recursive: true, force: true });
    },
  };
}

/**
 * The `it` of a content test file: its tests take `{ t }`, the harness of `startContent(env)`, started before the
 * file's first test and closed after its last one; and, created when a test first asks, `schedule` (`t.schedule()`)
 * and `set` (a message set on it).
 */
export function contentTest(env: Record<string, string> = {}) {
  return test.extend<{ t: ContentHarness; schedule: ContentSchedule; set: MessageSet }>({
    t: [
      // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from its first parameter.
      async ({}, use) => closeAfter(await startContent(env), use),
      { scope: "file", auto: true },
    ],
    schedule: [async ({ t }, use) => use(await t.schedule()), { scope: "file" }],
    set: [async ({ t }, use) => use(await t.createSet()), { scope: "file" }],
  });
}
