import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { TestProject } from "vitest/node";
import type { StackInfo } from "./stack.ts";

const STACK = fileURLToPath(new URL("./stack.ts", import.meta.url));

/**
 * The console project's global set-up (after the shared one, which makes the templates the services' databases
 * are cloned from): one platform stack for every console test file of the run, in a process of its own (see
 * stack.ts; the services' modules and metrics stay out of vitest's process), stopped at the run's end.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const child = spawn(process.execPath, ["--import", "tsx", STACK], {
    // Its databases and namespace are the run's: named for it, and cleaned up with it if the stack cannot.
    env: { ...process.env, TIDINGS_TEST_RUN: String(process.pid) },
    stdio: ["pipe", "pipe", "inherit"],
  });
  const exited = once(child, "exit");
  const info = await Promise.race([
    once(createInterface({ input: child.stdout }), "line").then(([line]) => JSON.parse(line) as StackInfo),
    exited.then(([code]) => {
      throw new Error(`the console tests' stack exited (${code}) before it was up`);
    }),
  ]);
  project.provide("consoleStack", info);
  return async () => {
    child.stdin.end();
    await exited;
  };
}
