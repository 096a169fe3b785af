import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import { declaredQueues, exchanges, namesFor } from "@tidings/contracts";
import amqp from "amqplib";

/**
 * Scratch namespaces (a test file's, a benchmark's, a chaos run's) are named `<kind>-<UTC time>-<owner>-<random>`:
 * the time and the owning process let a later run find and delete what an earlier one that was killed left behind.
 */
const SCRATCH = /^([a-z]+)-(\d{8}[Tt]\d{6}[Zz])-(\d+)-([0-9a-f]+)$/;

export interface ScratchNamespace {
  namespace: string;
  kind: string;
  createdAt: Date;
  /** The pid of the run that made it (a test run's vitest process, a benchmark's or chaos run's process). */
  owner: number;
}

/** How long a scratch namespace may live before any run deletes it as left behind. */
export const STALE_AFTER_MS = 3_600_000;

/** Lower-case (`20261204t203012z`): AMQP_NAMESPACE allows lower-case letters, digits, _ and - only. */
const stamp = (at: Date) =>
  at
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "z")
    .toLowerCase();

/** A new scratch namespace of `kind` (lower-case letters), owned by the run `owner` (a pid). */
export function scratchNamespace(kind: string, owner: number = process.pid, at = new Date()): string {
  if (!/^[a-z]+$/.test(kind)) {
    throw new Error(`a scratch namespace kind is lower-case letters, got "${kind}"`);
  }
  return `${kind}-${stamp(at)}-${owner}-${randomBytes(4).toString("hex")}`;
}

export function parseScratchNamespace(namespace: string): ScratchNamespace | undefined {
  const m = SCRATCH.exec(namespace);
  if (!m) {
    return undefined;
  }
  const [, kind, time, owner] = m as unknown as [string, string, string, string];
  const iso = `${time.slice(0, 4)}-${time.slice(4, 6)}-${time.slice(6, 8)}T${time.slice(9, 11)}:${time.slice(11, 13)}:${time.slice(13, 15)}Z`;
  return { namespace, kind, createdAt: new Date(iso), owner: Number(owner) };
}

const run = promisify(execFile);

/**
 * Every queue on the broker, by name: from the management API when `RABBITMQ_MANAGEMENT_URL` is set
 * (`http://user:pass@host:15672`), else from `rabbitmqctl` on this machine. Undefined when neither answers (AMQP
 * itself cannot list queues).
 */
export async function listBrokerQueues(env = process.env): Promise<string[] | undefined> {
  const management = env.RABBITMQ_MANAGEMENT_URL;
  if (management) {
    const url = new URL("/api/queues?columns=name", management);
    const auth = Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`);
    url.username = "";
    url.password = "";
    const res = await fetch(url, {
      headers: { authorization: `Basic ${auth.toString("base64")}` },
      signal: AbortSignal.timeout(15_000),
    }).catch(() => undefined);
    return res?.ok ? ((await res.json()) as { name: string }[]).map((q) => q.name) : undefined;
  }
  try {
    const { stdout } = await run("rabbitmqctl", ["list_queues", "-q", "--no-table-headers", "name"], {
      timeout: 20_000,
    });
    return stdout.split("\n").filter(Boolean);
  } catch {
    return undefined;
  }
}

/**
 * Deletes every queue and exchange of a namespace: those the topology declares, and `extraQueues` (queues found on
 * the broker under its prefix, such as an earlier version's). Deleting what is already gone is no error.
 */
export async function deleteNamespace(
  url: string,
  namespace: string,
  extraQueues: string[] = [],
): Promise<void> {
  const names = namesFor(namespace);
  const connection = await amqp.connect(url);
  try {
    const channel = await connection.createChannel();
    for (const queue of new Set([...declaredQueues(names), ...extraQueues])) {
      await channel.deleteQueue(queue);
    }
    for (const exchange of [...exchanges.map((s) => names.exchange(s)), names.delayExchange()]) {
      await channel.deleteExchange(exchange);
    }
    await channel.close();
  } finally {
    await connection.close();
  }
}

/**
 * Deletes the scratch namespaces on the broker that `select` picks (by default those older than STALE_AFTER_MS,
 * left by runs that were killed), with every queue found under their prefix. Returns the namespaces deleted, or
 * undefined when the broker's queues cannot be listed.
 */
export async function deleteScratchNamespaces(
  url: string,
  select: (ns: ScratchNamespace) => boolean = (ns) => Date.now() - ns.createdAt.getTime() > STALE_AFTER_MS,
  env = process.env,
): Promise<string[] | undefined> {
  const queues = await listBrokerQueues(env);
  if (!queues) {
    return undefined;
  }
  const chosen = new Map<string, string[]>();
  for (const queue of queues) {
    const namespace = queue.slice(0, Math.max(0, queue.indexOf(".")));
    const parsed = parseScratchNamespace(namespace);
    if (parsed && select(parsed)) {
      chosen.set(namespace, [...(chosen.get(namespace) ?? []), queue]);
    }
  }
  for (const [namespace, found] of chosen) {
    await deleteNamespace(url, namespace, found);
  }
  return [...chosen.keys()];
}
