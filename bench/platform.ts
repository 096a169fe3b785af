/**
 * Real service processes for the benchmarks and the chaos run: each service gets a scratch database and
 * the run's AMQP namespace; APIs listen on free ports. Processes can be added, killed and restarted by name.
 */
import { createWriteStream } from "node:fs";
import path from "node:path";
import pg from "pg";
import { startTwilioSimulator, type TwilioSimulator } from "../packages/provider-simulators/src/twilio.ts";
import { buildServices } from "../packages/testing/src/build.ts";
import {
  type Role,
  type ServiceProcess,
  spawnService,
  waitForHealthy,
} from "../packages/testing/src/processes.ts";
import { benchDatabase, deleteNamespace, freePort, httpClient, newNamespace, run } from "./lib.ts";

export const ADMIN_TOKEN = `bench-admin-token-${run}`;
export const AUTH = { authorization: `Token ${ADMIN_TOKEN}` };
/**
 * With BENCH_CPU_PROF=<dir> each service process writes a V8 CPU profile there when it stops. Their heap
 * flags are SERVICE_NODE_ARGS, as everywhere (scripts/service.sh).
 */
const cpuProfile: Record<string, string> = process.env.BENCH_CPU_PROF
  ? { SERVICE_CPU_PROF_DIR: process.env.BENCH_CPU_PROF }
  : {};
/** With PLATFORM_LOG_DIR=<dir> every process's output is also written to <dir>/<process name>.log. */
const logDir = process.env.PLATFORM_LOG_DIR;
/** The service bundles, built once per run from the current sources before the first process starts. */
let built: Promise<number> | undefined;
const envName = (service: string) => service.toUpperCase().replaceAll("-", "_");

interface Entry {
  service: string;
  role: Role;
  proc: ServiceProcess;
}

export class Platform {
  readonly processes = new Map<string, Entry>();
  /** The last lines each process printed (for a failure report). */
  private readonly tails = new Map<string, string[]>();
  /** Patterns whose matching output lines are counted (see `watch`). */
  private readonly watched: { pattern: RegExp; count: number }[] = [];
  private counter = 0;

  private constructor(
    readonly namespace: string,
    private readonly env: Record<string, string>,
    private readonly apis: Record<string, string>,
    readonly databases: Record<string, string>,
    private readonly drops: (() => Promise<void>)[],
    private readonly root?: string,
  ) {}

  /**
   * Migrates a database for each service and prepares (but does not start) its processes: this checkout's, or those
   * of `root`, another checkout built beforehand (`pnpm build` there) whose schema is this one's (the databases are
   * migrated from this checkout).
   */
  static async create(
    services: string[],
    label: string,
    env: Record<string, string> = {},
    root?: string,
  ): Promise<Platform> {
    built ??= buildServices();
    await built;
    const namespace = newNamespace();
    const full: Record<string, string> = {
      AMQP_NAMESPACE: namespace,
      ADMIN_TOKEN,
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? "warn",
      ...env,
    };
    const apis: Record<string, string> = {};
    const databases: Record<string, string> = {};
    const drops: (() => Promise<void>)[] = [];
    for (const service of services) {
      const db = await benchDatabase(service, label);
      drops.push(db.drop);
      databases[service] = db.url;
      const port = await freePort();
      apis[service] = `http://127.0.0.1:${port}`;
      full[`${envName(service)}_DATABASE_URL`] = db.url;
      full[`${envName(service)}_PORT`] = String(port);
    }
    return new Platform(namespace, full, apis, databases, drops, root);
  }

  api(service: string): string {
    const url = this.apis[service];
    if (!url) {
      throw new Error(`no ${service} in this platform`);
    }
    return url;
  }

  /** Starts a process (or restarts one by its name); resolves once an API answers its health check. */
  async start(service: string, role: Role, name = `${service}-${role}-${++this.counter}`): Promise<string> {
    const tail: string[] = [];
    this.tails.set(name, tail);
    const file = logDir ? createWriteStream(path.join(logDir, `${name}.log`), { flags: "a" }) : undefined;
    const proc = spawnService(service, role, {
      name,
      root: this.root,
      env: { ...this.env, ...cpuProfile, WORKER_ID: `${name}-${Date.now()}` },
      onLine: (line) => {
        file?.write(`${line}\n`);
        for (const w of this.watched) {
          w.count += Number(w.pattern.test(line));
        }
        tail.push(line);
        if (tail.length > 30) {
          tail.shift();
        }
      },
    });
    this.processes.set(name, { service, role, proc });
    void proc.exited.finally(() => file?.end());
    if (role === "api") {
      const died = proc.exited.then((code) => {
        throw new Error(`exited (${code})`);
      });
      await Promise.race([waitForHealthy(`${this.api(service)}/api/health/`, 90_000), died]).catch(
        (err: unknown) => {
          throw new Error(`${name} did not start: ${String(err)}\n${this.tail(name)}`);
        },
      );
    }
    return name;
  }

  /** Counts the output lines of every process (from now on) that match; read the count with the result. */
  watch(pattern: RegExp): () => number {
    const w = { pattern, count: 0 };
    this.watched.push(w);
    return () => w.count;
  }

  /** kill -9, at once, no goodbye. */
  async kill(name: string): Promise<void> {
    const entry = this.processes.get(name);
    entry?.proc.child.kill("SIGKILL");
    await entry?.proc.exited;
  }

  /** SIGTERM (graceful) one process. */
  async stopProcess(name: string): Promise<void> {
    await this.processes.get(name)?.proc.stop(20_000);
    this.processes.delete(name);
  }

  names(service: string, role: Role): string[] {
    return [...this.processes]
      .filter(([, e]) => e.service === service && e.role === role)
      .map(([name]) => name);
  }

  pid(name: string): number | undefined {
    return this.processes.get(name)?.proc.child.pid;
  }

  tail(name: string): string {
    return (this.tails.get(name) ?? []).join("\n");
  }

  /** A pg pool on a service's database. */
  pool(service: string, max = 2): pg.Pool {
    return new pg.Pool({ connectionString: this.databases[service], max });
  }

  async stop(): Promise<void> {
    await Promise.all([...this.processes.values()].map((e) => e.proc.stop(20_000)));
    this.processes.clear();
    for (const drop of this.drops) {
      await drop();
    }
    await deleteNamespace(this.namespace);
  }
}

const TWILIO_SID = `AC${"b".repeat(32)}`;
const TWILIO_TOKEN = "bench-twilio-auth-token";

/**
 * A Twilio simulator in this process, and message-sender's default channel `SIM` pointed at it with status
 * callbacks to the platform's message-sender API.
 */
export async function twilioChannel(platform: Platform, latencyMs: number): Promise<TwilioSimulator> {
  const simulator = await startTwilioSimulator({
    accounts: { [TWILIO_SID]: TWILIO_TOKEN },
    latencyMs,
    callbackIntervalMs: 0,
  });
  const client = httpClient(platform.api("message-sender"), 1);
  const res = await client.request(
    "POST",
    "/api/v1/channel/",
    {
      channel_id: "SIM",
      channel_type: "twilio",
      default: true,
      configuration: {
        account_sid: TWILIO_SID,
        auth_token: TWILIO_TOKEN,
        from: "+15550001000",
        status_callback: platform.api("message-sender"),
        api_url: simulator.url,
        // The simulator is local: a send that takes 5 s is a stalled one. (A worker starts a send only while its
        // claim outlasts this; the chaos run's claims last 15 s.)
        timeout_ms: 5_000,
      },
    },
    AUTH,
  );
  client.close();
  if (res.status !== 201) {
    throw new Error(`creating the SIM channel: ${res.status} ${res.body}`);
  }
  return simulator;
}

/** A distinct E.164 number per index. */
export const msisdn = (i: number) => `+2782${String(i).padStart(7, "0")}`;
