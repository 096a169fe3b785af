import type { TestProject } from "vitest/node";
import { startStack } from "./stack.ts";

/**
 * The console project's global set-up (after the shared one, which makes the templates the services' databases
 * are cloned from): one platform stack for every console test file of the run, stopped at its end.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stack = await startStack();
  project.provide("consoleStack", stack.info);
  return () => stack.close();
}
