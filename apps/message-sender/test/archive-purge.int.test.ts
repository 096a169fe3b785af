/**
 * Forget means the archives too: a forgotten person's archived outbounds are redacted in the archive files by the
 * worker's archive purge, which takes the archives' lock before it reads who is waiting, so an archive being written
 * while the forget commits is either read after the forget or rewritten by the purge.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { adminAuth, startTestService, waitFor } from "@tidings/testing";
import pg from "pg";
import { Registry } from "prom-client";
import { describe, expect } from "vitest";
import { forgetPerson } from "../src/forget/forget.ts";
import type { OutboundStatus } from "../src/generated/prisma/client.ts";
import { purgeArchives, registerArchivePurgeGauge } from "../src/reports/archive-purge.ts";
import { messageSenderService } from "../src/service.ts";
import { forgetting, msisdn } from "./helpers.ts";
import { archivingTest, call, type Svc } from "./support.ts";

const { it, archiveDir } = archivingTest("tidings-archive-purge-");

const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);

interface Row {
  day: string;
  to: { identity?: string; addr?: string };
  status?: OutboundStatus;
}

/** Final outbounds on past days, with content and metadata that name their person. */
async function seed(db: Svc["db"], rows: Row[]): Promise<string[]> {
  const data = rows.map((r) => ({
    id: randomUUID(),
    toAddr: r.to.addr ?? "",
    toIdentity: r.to.identity ?? null,
    content: `Hello ${r.to.identity ?? r.to.addr}`,
    metadata: { name: "Thandi" },
    status: r.status ?? "delivered",
    delivered: (r.status ?? "delivered") === "delivered",
    attempts: 1,
    createdAt: new Date(`${r.day}T10:00:00Z`),
  }));
  await db.outbound.createMany({ data });
  return data.map((d) => d.id);
}

const linesOf = async (dir: string, day: string) =>
  gunzipSync(await readFile(join(dir, `outbounds-${day}.gz`)))
    .toString("utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line));

const archive = async (svc: Svc, start: string, end = start) =>
  (await call(svc, "POST", "/api/v1/archive-outbounds/", { start, end })).json();

/**
 * A connection of its own holding the archives' lock (as an archive being written does) until `release`;
 * `waitedFor` resolves once another transaction waits for it.
 */
async function holdArchivesLock(url: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query("BEGIN");
  await client.query("LOCK TABLE archived_outbounds IN EXCLUSIVE MODE");
  return {
    waitedFor: () =>
      waitFor(
        async () =>
          (
            await client.query(
              "SELECT 1 FROM pg_locks WHERE relation = 'archived_outbounds'::regclass AND NOT granted",
            )
          ).rowCount,
        { what: "a transaction waiting for the archives' lock" },
      ),
    release: async () => {
      await client.query("COMMIT");
      await client.end();
    },
  };
}

describe("purging forgotten people from the archives", () => {
  it("redacts each archived outbound to the person, by identity or address, rewriting only the files that hold one", async ({
    svc,
  }) => {
    // Before any day is archived, a forget leaves nobody waiting.
    await forgetPerson(svc.db, forgetting(randomUUID(), msisdn()));
    expect(await svc.db.archivePurge.count()).toBe(0);

    const person = randomUUID();
    const number = msisdn();
    const other = randomUUID();
    const [d1, d2, d3] = [daysAgo(40), daysAgo(39), daysAgo(38)];
    const [theirs1, others1, theirs2, byNumber] = await seed(svc.db, [
      { day: d1, to: { identity: person } },
      { day: d1, to: { identity: other } },
      { day: d2, to: { identity: person } },
      // A send by number alone that failed after every attempt keeps its address.
      { day: d2, to: { addr: number }, status: "failed" },
      { day: d3, to: { identity: other } },
    ]);
    expect((await archive(svc, d1, d3)).days).toEqual([d1, d2, d3]);
    const untouched = (await stat(join(archiveDir, `outbounds-${d3}.gz`))).mtimeMs;

    await forgetPerson(svc.db, forgetting(person, number));
    // Waiting: the identity and the digest of the address, never the address.
    const [waiting] = await svc.db.$queryRaw<{ identity: string; address_digests: string[] }[]>`
      SELECT identity::text, address_digests FROM archive_purge`;
    expect(waiting?.identity).toBe(person);
    expect(waiting?.address_digests).toHaveLength(1);
    expect(waiting?.address_digests[0]).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(waiting)).not.toContain(number.slice(1));

    // A worker stopping (its signal aborted) leaves them waiting, files unwritten.
    const stopping = new AbortController();
    stopping.abort();
    expect(await purgeArchives(svc.db, archiveDir, stopping.signal)).toEqual({
      identities: 0,
      files: 0,
      outbounds: 0,
    });
    expect(await svc.db.archivePurge.count()).toBe(1);
    expect((await linesOf(archiveDir, d1)).find((l) => l.id === theirs1)).toMatchObject({
      content: `Hello ${person}`,
    });
    // The worker's gauge: how long they have waited (a fresh registry per reading: each reads once per scrape cache).
    const waited = async () => {
      const registry = new Registry();
      registerArchivePurgeGauge(registry, svc.db);
      const [metric] = (await registry.getMetricsAsJSON()) as { name: string; values: { value: number }[] }[];
      expect(metric?.name).toBe("tidings_archive_purge_waiting_seconds");
      return metric?.values[0]?.value;
    };
    await svc.db.$executeRaw`UPDATE archive_purge SET requested_at = now() - interval '90 seconds'`;
    expect(await waited()).toBeGreaterThanOrEqual(90);
    expect(await waited()).toBeLessThan(100);

    expect(await purgeArchives(svc.db, archiveDir)).toEqual({ identities: 1, files: 2, outbounds: 3 });
    expect(await waited()).toBe(0);
    const redacted = { to_addr: "", content: null, metadata: {}, redacted: true };
    const day1 = await linesOf(archiveDir, d1);
    expect(day1.map((l) => l.id).sort()).toEqual([theirs1, others1].sort());
    expect(day1.find((l) => l.id === theirs1)).toMatchObject({
      ...redacted,
      status: "delivered",
      to_identity: person,
    });
    expect(day1.find((l) => l.id === others1)).toMatchObject({
      content: `Hello ${other}`,
      metadata: { name: "Thandi" },
      redacted: false,
    });
    const day2 = await linesOf(archiveDir, d2);
    expect(day2.find((l) => l.id === theirs2)).toMatchObject(redacted);
    expect(day2.find((l) => l.id === byNumber)).toMatchObject({
      ...redacted,
      status: "failed",
      to_identity: null,
    });
    // Neither the person's number nor their name is left in any file; the others' file was not written.
    for (const day of [d1, d2]) {
      const text = gunzipSync(await readFile(join(archiveDir, `outbounds-${day}.gz`))).toString("utf8");
      expect(text).not.toContain(number);
      expect(text).not.toContain(`Hello ${person}`);
    }
    expect((await stat(join(archiveDir, `outbounds-${d3}.gz`))).mtimeMs).toBe(untouched);
    expect((await readdir(archiveDir)).filter((n) => n.endsWith(".tmp"))).toEqual([]);
    expect(await svc.db.archivePurge.count()).toBe(0);

    // A redelivered forget waits again, and its purge finds nothing left to change.
    await forgetPerson(svc.db, forgetting(person, number));
    const written = (await stat(join(archiveDir, `outbounds-${d1}.gz`))).mtimeMs;
    expect(await purgeArchives(svc.db, archiveDir)).toEqual({ identities: 1, files: 0, outbounds: 0 });
    expect((await stat(join(archiveDir, `outbounds-${d1}.gz`))).mtimeMs).toBe(written);
    expect(await purgeArchives(svc.db, archiveDir)).toEqual({ identities: 0, files: 0, outbounds: 0 });
  });

  it("waits for an archive being written, and rewrites it once it is in place", async ({ svc }) => {
    const person = randomUUID();
    const archived = daysAgo(59);
    await seed(svc.db, [{ day: archived, to: { identity: randomUUID() } }]);
    await archive(svc, archived);
    await forgetPerson(svc.db, forgetting(person, msisdn()));
    expect(await svc.db.archivePurge.count()).toBe(1);
    const lock = await holdArchivesLock(svc.config.DATABASE_URL);
    let purged: Awaited<ReturnType<typeof purgeArchives>> | undefined;
    const purge = purgeArchives(svc.db, archiveDir).then((outcome) => {
      purged = outcome;
    });
    await lock.waitedFor();
    expect(purged).toBeUndefined();
    // The archive in progress puts its file in place (with the person's send, read before the forget), then commits.
    const day = daysAgo(60);
    const line = {
      id: randomUUID(),
      to_addr: "",
      to_identity: person,
      content: "Hello",
      metadata: {},
      redacted: false,
    };
    await writeFile(join(archiveDir, `outbounds-${day}.gz`), gzipSync(`${JSON.stringify(line)}\n`));
    await lock.release();
    await purge;
    expect(purged).toEqual({ identities: 1, files: 1, outbounds: 1 });
    expect(await linesOf(archiveDir, day)).toEqual([{ ...line, content: null, redacted: true }]);
  });

  it("archives, after waiting for the lock, what a forget committed meanwhile", async ({ svc }) => {
    const person = randomUUID();
    const day = daysAgo(70);
    const [id] = await seed(svc.db, [{ day, to: { identity: person } }]);
    const lock = await holdArchivesLock(svc.config.DATABASE_URL);
    const archiving = archive(svc, day);
    await lock.waitedFor();
    // The forget does not wait for the archives' lock.
    await forgetPerson(svc.db, forgetting(person, msisdn()));
    await lock.release();
    expect((await archiving).days).toEqual([day]);
    expect(await linesOf(archiveDir, day)).toEqual([
      expect.objectContaining({ id, to_identity: person, content: null, metadata: {}, redacted: true }),
    ]);
  });

  it("keeps people waiting when ARCHIVE_DIR is not the archives' directory", async ({ svc }) => {
    const day = daysAgo(90);
    await seed(svc.db, [{ day, to: { identity: randomUUID() } }]);
    await archive(svc, day);
    await forgetPerson(svc.db, forgetting(randomUUID(), msisdn()));
    const waiting = await svc.db.archivePurge.count();
    expect(waiting).toBeGreaterThan(0);
    const empty = await mkdtemp(join(tmpdir(), "tidings-not-archives-"));
    try {
      await expect(purgeArchives(svc.db, empty)).rejects.toThrow(/is the archive volume mounted/);
      await expect(purgeArchives(svc.db, join(empty, "missing"))).rejects.toThrow(
        /is the archive volume mounted/,
      );
      // Nor is an archive that can't be read taken for one without them.
      await writeFile(join(empty, ".tidings-archive"), "");
      await writeFile(join(empty, `outbounds-${day}.gz`), "not gzip");
      await expect(purgeArchives(svc.db, empty)).rejects.toThrow(/incorrect header check/);
      expect(await svc.db.archivePurge.count()).toBe(waiting);
    } finally {
      await rm(empty, { recursive: true });
    }
  });
});

describe("the worker's archive purge", () => {
  it("purges a forgotten person from the archives on its own", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tidings-archive-worker-"));
    const svc = await startTestService(messageSenderService, {
      worker: true,
      env: { ARCHIVE_DIR: dir, ARCHIVE_PURGE_INTERVAL_MS: "100" },
    });
    try {
      const person = randomUUID();
      const day = daysAgo(80);
      await seed(svc.db, [{ day, to: { identity: person } }]);
      const res = await svc.app.inject({
        method: "POST",
        url: "/api/v1/archive-outbounds/",
        headers: adminAuth,
        payload: { start: day, end: day },
      });
      expect(res.json().days).toEqual([day]);
      await forgetPerson(svc.db, forgetting(person, msisdn()));
      // The file is in place before the pass commits (and deletes the person's row).
      await waitFor(
        async () =>
          (await linesOf(dir, day))[0].content === null && (await svc.db.archivePurge.count()) === 0,
        { what: "the archive purged and the person no longer waiting" },
      );
    } finally {
      await svc.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
