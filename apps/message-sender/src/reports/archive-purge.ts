import { join } from "node:path";
import { cached, SCRAPE_CACHE_MS, scrapeGauge } from "@tidings/service-kit";
import type { Registry } from "prom-client";
import { addressHash } from "../consent/consent.ts";
import type { Db, Tx } from "../db.ts";
import { archiveFiles, archiveLines, lockArchives, writeArchive } from "./archives.ts";

/** A purge reads (and may rewrite) one archive file in each transaction, holding the archives' lock: allow a large one. */
const PURGE_TRANSACTION = { maxWait: 10_000, timeout: 30 * 60_000 } as const;

/** How an address is kept in `archive_purge`: as the consent copy keys it (addressHash), in hex. */
const digest = (address: string) => addressHash(address).toString("hex");

/**
 * In the forget's transaction, after its outbounds are locked: when any day is archived, the person waits in
 * `archive_purge` (their identity, and their addresses' digests) for purgeArchives. A day archived after this
 * commits holds them redacted already; one archived before it, or being archived now, is rewritten by the purge.
 */
export async function requestArchivePurge(tx: Tx, identity: string, addresses: string[]): Promise<void> {
  await tx.$executeRaw`
    INSERT INTO archive_purge (identity, address_digests)
    SELECT ${identity}::uuid, ${addresses.map(digest)}::text[]
    WHERE EXISTS (SELECT 1 FROM archived_outbounds)
    ON CONFLICT (identity) DO UPDATE SET
      address_digests = ARRAY(SELECT DISTINCT unnest(archive_purge.address_digests || EXCLUDED.address_digests)),
      requested_at = now()`;
}

export interface PurgeOutcome {
  /** The forgotten identities purged. */
  identities: number;
  /** The archive files rewritten. */
  files: number;
  /** The archived outbounds redacted. */
  outbounds: number;
}

/**
 * Purges the forgotten people waiting in `archive_purge` from every archive file in `dir`: each archived outbound to
 * one of them (its `to_identity`, or its `to_addr`'s digest) is redacted as the database redacts a row (`to_addr`
 * "", `content` null, `metadata` {}, `redacted` true), each file that holds one is rewritten once for all of them
 * (temporary file, fsync, rename, fsync the directory; a file with none of them is read, not written), and their rows
 * are deleted. One file per transaction holding the archives' lock (so archiving waits for one file at most, and no
 * transaction lasts the whole pass), the directory listed again in each: a file an archive put in place meanwhile
 * is purged in the same pass, and their rows are deleted under the lock, by the transaction that found no file left.
 * An archive that began after they were forgotten read their rows redacted. `signal` stops it between files (the
 * people stay waiting, none counted as purged; files rewritten so far stay so).
 */
export async function purgeArchives(db: Db, dir: string, signal?: AbortSignal): Promise<PurgeOutcome> {
  const pending = await db.archivePurge.findMany();
  if (pending.length === 0) {
    return { identities: 0, files: 0, outbounds: 0 };
  }
  const redact = redactor(
    pending.map((p) => p.identity),
    pending.flatMap((p) => p.addressDigests),
  );
  const done = new Set<string>();
  let files = 0;
  let outbounds = 0;
  for (;;) {
    if (signal?.aborted) {
      return { identities: 0, files, outbounds };
    }
    const finished = await db.$transaction(async (tx) => {
      await lockArchives(tx);
      const next = (await archiveFiles(dir)).find((name) => !done.has(name));
      if (next === undefined) {
        await tx.$executeRaw`
          DELETE FROM archive_purge p
          USING unnest(${pending.map((p) => p.identity)}::uuid[], ${pending.map((p) => p.requestedAt)}::timestamptz[])
            AS done(identity, requested_at)
          WHERE p.identity = done.identity AND p.requested_at = done.requested_at`;
        return true;
      }
      const redacted = await purgeFile(dir, next, redact);
      files += redacted > 0 ? 1 : 0;
      outbounds += redacted;
      done.add(next);
      return false;
    }, PURGE_TRANSACTION);
    if (finished) {
      return { identities: pending.length, files, outbounds };
    }
  }
}

/** Rewrites the archive file `name` with its lines redacted by `redact`, if any is; returns how many were. */
async function purgeFile(
  dir: string,
  name: string,
  redact: (line: string) => string | undefined,
): Promise<number> {
  const path = join(dir, name);
  if (!(await holdsAny(path, redact))) {
    return 0;
  }
  let redacted = 0;
  async function* lines() {
    for await (const line of archiveLines(path)) {
      const changed = redact(line);
      redacted += changed === undefined ? 0 : 1;
      yield `${changed ?? line}\n`;
    }
  }
  await writeArchive(dir, name, lines());
  return redacted;
}

async function holdsAny(path: string, redact: (line: string) => string | undefined): Promise<boolean> {
  for await (const line of archiveLines(path)) {
    if (redact(line) !== undefined) {
      return true;
    }
  }
  return false;
}

interface ArchivedOutbound {
  to_identity?: string | null;
  to_addr?: string;
  content?: string | null;
  metadata?: object;
  redacted?: boolean;
}

/**
 * An archive line redacted (its JSON, keys in their order) when it is an outbound to one of the people and not
 * redacted yet; else undefined. A line that names none of them (by identity, or with an address) is not parsed.
 */
function redactor(identities: string[], digests: string[]): (line: string) => string | undefined {
  const people = new Set(identities);
  const addresses = new Set(digests);
  return (line) => {
    if (!identities.some((id) => line.includes(id)) && line.includes('"to_addr":""')) {
      return undefined;
    }
    const outbound = JSON.parse(line) as ArchivedOutbound;
    const theirs =
      (outbound.to_identity && people.has(outbound.to_identity)) ||
      (outbound.to_addr && addresses.has(digest(outbound.to_addr)));
    const done =
      outbound.to_addr === "" &&
      outbound.content === null &&
      Object.keys(outbound.metadata ?? {}).length === 0 &&
      outbound.redacted === true;
    if (!theirs || done) {
      return undefined;
    }
    return JSON.stringify({ ...outbound, to_addr: "", content: null, metadata: {}, redacted: true });
  };
}

/**
 * `tidings_archive_purge_waiting_seconds`, read on scrape (a worker's /metrics): how long the longest-waiting forgotten
 * person has waited to be purged from the archive files (0 when nobody waits). A worker with ARCHIVE_DIR holds it
 * under ARCHIVE_PURGE_INTERVAL_MS; growing, no worker is purging (none has ARCHIVE_DIR, or the volume).
 */
export function registerArchivePurgeGauge(registry: Registry, db: Db): void {
  const readWait = cached(async () => {
    const [row] = await db.$queryRaw<{ waited: number }[]>`
      SELECT coalesce(extract(epoch FROM now() - min(requested_at)), 0)::float8 AS waited FROM archive_purge`;
    return Math.max(0, row?.waited ?? 0);
  }, SCRAPE_CACHE_MS);
  scrapeGauge(
    registry,
    "tidings_archive_purge_waiting_seconds",
    "How long the longest-waiting forgotten person has waited to be purged from the archive files (0: nobody waits)",
    [],
    async () => [{ value: await readWait() }],
  );
}
