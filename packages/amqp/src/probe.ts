import { execFile } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { connect as tcpConnect } from "node:net";
import { promisify } from "node:util";
import amqp, { type ChannelModel } from "amqplib";

/** Where the recovery steps are written down. */
export const HUNG_BROKER_HELP = "README.md, section 'A hung RabbitMQ' (under Operations)";

export interface ProbeOptions {
  /** How long each step (TCP connect, AMQP handshake, declaring a queue) may take. */
  stepTimeoutMs?: number;
}

export interface ProbeResult {
  /** The broker's version, from its handshake. */
  version: string;
  ms: number;
}

/** The broker does not answer as it should; the message says what hung and how to recover. */
export class BrokerUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BrokerUnavailableError";
  }
}

const DEFAULT_STEP_TIMEOUT_MS = 10_000;

/** Rejects with `what` when `work` takes longer than `ms`; `onLate` disposes of whatever it yields afterwards. */
function within<T>(work: Promise<T>, ms: number, what: string, onLate?: (value: T) => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let late = false;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      late = true;
      reject(new Error(what));
    }, ms);
  });
  work.then(
    (value) => late && onLate?.(value),
    () => undefined,
  );
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

function tcpReachable(host: string, port: number, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ host, port });
    const fail = (err: Error) => {
      socket.destroy();
      reject(err);
    };
    socket.setTimeout(ms, () => fail(new Error(`no TCP connection within ${ms / 1000} s`)));
    socket.once("error", (err: NodeJS.ErrnoException) =>
      fail(new Error(`TCP connection failed: ${err.code ?? err.message}`)),
    );
    socket.once("connect", () => {
      socket.destroy();
      resolve();
    });
  });
}

/**
 * Checks, with a short timeout for each step, that the broker at `url` accepts a connection, completes the AMQP
 * handshake, and declares and deletes a temporary queue. A broker that accepts TCP but never finishes the handshake
 * (RabbitMQ out of file handles: connections made earlier keep working, new ones hang) fails here in seconds
 * instead of stalling whatever starts next; the error names what hung, the broker's version and open-files limit
 * where this machine can read them, and where the recovery steps are.
 */
export async function probeBroker(
  url: string,
  { stepTimeoutMs = DEFAULT_STEP_TIMEOUT_MS }: ProbeOptions = {},
): Promise<ProbeResult> {
  const started = Date.now();
  const target = new URL(url);
  const host = target.hostname || "127.0.0.1";
  const port = Number(target.port || (target.protocol === "amqps:" ? 5671 : 5672));
  const where = `RabbitMQ at ${target.protocol}//${host}:${port}`;
  let step = "TCP connect";
  let connection: ChannelModel | undefined;
  try {
    await tcpReachable(host, port, stepTimeoutMs);
    step = "AMQP handshake";
    connection = await within(
      amqp.connect(url, { timeout: stepTimeoutMs }),
      stepTimeoutMs,
      `accepted the TCP connection but did not complete the AMQP handshake within ${stepTimeoutMs / 1000} s`,
      (late) => void late.close().catch(() => undefined),
    );
    connection.on("error", () => undefined);
    step = "declaring a queue";
    const open = connection;
    await within(
      (async () => {
        const channel = await open.createChannel();
        const { queue } = await channel.assertQueue("", { exclusive: true, autoDelete: true });
        await channel.deleteQueue(queue);
        await channel.close();
      })(),
      stepTimeoutMs,
      `completed the handshake but did not declare and delete a queue within ${stepTimeoutMs / 1000} s`,
    );
    const version = String(open.connection.serverProperties?.version ?? "unknown");
    return { version, ms: Date.now() - started };
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    const facts = await brokerFacts(host, connection);
    throw new BrokerUnavailableError(
      `${where} is not usable (${step}): ${reason}.${facts ? ` ${facts}.` : ""} ` +
        (step === "TCP connect"
          ? "Start it (rabbitmq-server -detached, or docker compose up -d rabbitmq) or set AMQP_URL."
          : `A broker that accepts connections but never answers is usually out of file handles (too many queues for its open-files limit); see ${HUNG_BROKER_HELP} for how to recover it.`),
    );
  } finally {
    void connection?.close().catch(() => undefined);
  }
}

const exec = promisify(execFile);

/** What this machine can tell about a local broker without talking AMQP to it: version, pid, open-files limit. */
async function brokerFacts(host: string, connection: ChannelModel | undefined): Promise<string> {
  const facts: string[] = [];
  const version =
    connection?.connection.serverProperties?.version ??
    (await exec("dpkg-query", ["-W", "rabbitmq-server"], { timeout: 2_000 }).then(
      (r) => r.stdout.trim().split("\t")[1] || undefined, // "rabbitmq-server\t3.10.8-1.1"
      () => undefined,
    ));
  if (version) {
    facts.push(`version ${version}`);
  }
  if (["127.0.0.1", "localhost", "::1", "[::1]"].includes(host)) {
    const pid = await localBrokerPid();
    if (pid) {
      const limits = await readFile(`/proc/${pid}/limits`, "utf8").catch(() => "");
      const files = /^Max open files\s+(\S+)\s+(\S+)/m.exec(limits);
      facts.push(files ? `pid ${pid}, open-files limit ${files[1]} (hard ${files[2]})` : `pid ${pid}`);
    }
  }
  return facts.length ? `Broker: ${facts.join(", ")}` : "";
}

/** The pid of a RabbitMQ node running on this machine (its Erlang VM), if one is visible in /proc. */
async function localBrokerPid(): Promise<number | undefined> {
  const entries = await readdir("/proc").catch(() => [] as string[]);
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) {
      continue;
    }
    const cmdline = await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "");
    if (cmdline.includes("beam") && cmdline.includes("rabbit")) {
      return Number(entry);
    }
  }
  return undefined;
}
