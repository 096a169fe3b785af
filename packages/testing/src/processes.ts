import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import path from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

export type Role = "api" | "worker";

export interface ServiceProcess {
  name: string;
  child: ChildProcess;
  /** Resolves with the exit code (or signal) once the process is gone. */
  exited: Promise<number | string>;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Starts one service process exactly as `pnpm start` does (`scripts/service.sh <service> <role>`: node with
 * SERVICE_NODE_ARGS on the service's bundle, apps/<service>/dist/main.js, which `pnpm build` writes and the
 * test setup rebuilds), handing each line of its output to `onLine`. The launcher execs node, so `child.pid`
 * is the service process itself.
 */
export function spawnService(
  service: string,
  role: Role,
  options: {
    env?: Record<string, string>;
    name?: string;
    onLine?: (line: string, name: string) => void;
    /**
     * Its own process group, so a terminal's Ctrl-C (SIGINT to the foreground group) reaches only the parent,
     * which then stops it with one SIGTERM (`pnpm start`). A process that gets both exits at the second signal
     * without draining. Tests, benchmarks and chaos leave this off: there, Ctrl-C should reach every process.
     */
    ownProcessGroup?: boolean;
    /** The checkout whose built bundle runs (default: this one). `pnpm bench api` compares two. */
    root?: string;
  } = {},
): ServiceProcess {
  const name = options.name ?? `${service}-${role}`;
  const root = options.root ?? ROOT;
  const child = spawn(path.join(root, "scripts", "service.sh"), [service, role], {
    cwd: root,
    // A worker's HTTP listener on a free port unless told otherwise: tests, benchmarks and chaos runs start several.
    env: { ...process.env, ...(role === "worker" ? { WORKER_HTTP_PORT: "0" } : {}), ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: options.ownProcessGroup ?? false,
  });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on("line", (line) => options.onLine?.(line, name));
  }
  // "close", not "exit": by then its output has been read to the end, last log lines included.
  const exited = new Promise<number | string>((resolve) =>
    child.once("close", (code, signal) => resolve(code ?? signal ?? "unknown")),
  );
  return {
    name,
    child,
    exited,
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) {
        return;
      }
      child.kill("SIGTERM");
      const done = await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)]);
      if (!done) {
        child.kill("SIGKILL");
        await exited;
      }
    },
  };
}

/** Polls an HTTP health endpoint until it answers 200. */
export async function waitForHealthy(url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await fetch(url).then(
      (res) => res.ok,
      () => false,
    );
    if (ok) {
      return;
    }
    await sleep(200);
  }
  throw new Error(`${url} did not become healthy within ${timeoutMs} ms`);
}

/**
 * Where freePort hands out ports: below Linux's ephemeral range (32768-60999), from which the kernel takes every
 * outgoing connection's local port and every `listen(0)`'s. A port taken from that range stayed free only until a
 * connection of another test took it as its local port: a CI run's API then failed to listen (EADDRINUSE). Each
 * vitest worker (VITEST_POOL_ID), else each process (by its pid), draws from its own block, so two vitest workers
 * starting services at once never draw the same port; a process outside them may share a worker's block, and a
 * port is handed out only if it is free when drawn. Within a process the ports are handed out in turn from a random
 * start, so a port drawn but not yet listened on is never drawn again before the block has come round (drawn at
 * random, a platform's ten ports repeated one in thirty times: a CI run's worker failed to listen).
 */
const PORTS = { first: 10_000, blocks: 16, blockSize: 1_400 };
let nextInBlock = Math.floor(Math.random() * PORTS.blockSize);

/** A TCP port free on every interface right now, for a process to listen on (see PORTS). */
export async function freePort(): Promise<number> {
  const block = Number(process.env.VITEST_POOL_ID ?? process.pid) % PORTS.blocks;
  const first = PORTS.first + block * PORTS.blockSize;
  for (;;) {
    const port = first + nextInBlock;
    nextInBlock = (nextInBlock + 1) % PORTS.blockSize;
    if (await bindable(port)) {
      return port;
    }
  }
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "0.0.0.0", () => server.close(() => resolve(true)));
  });
}
