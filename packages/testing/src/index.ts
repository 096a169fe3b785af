import { setTimeout as sleep } from "node:timers/promises";

/** Polls `check` until it returns a value other than undefined, null or false, or fails after `timeoutMs`. */
export async function waitFor<T>(
  check: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  { timeoutMs = 10_000, intervalMs = 50, what = "condition" } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined && value !== null && value !== false) {
        return value as T;
      }
    } catch (err) {
      lastError = err;
    }
    await sleep(intervalMs);
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ""}`,
  );
}

export {
  type Capture,
  type CapturedMessage,
  captureMessages,
  captureNotifications,
  type HeardNotifications,
} from "./capture.ts";
export { type Cleaned, cleanupRun, dropDatabases, startJanitor } from "./cleanup.ts";
export { closeAfter, closing, testDatabase, testNamespace } from "./closing.ts";
export { AMQP_URL, DATABASE_SERVER } from "./env.ts";
export { expectError } from "./expect-error.ts";
export { type ServiceFixtures, serviceTest } from "./fixtures.ts";
export { callAs, expectKeyKindsRefused, type TestRequest } from "./key-kinds.ts";
export { holdRunLock } from "./lock.ts";
export { freePort, ROOT, type Role, type ServiceProcess, spawnService, waitForHealthy } from "./processes.ts";
export { type RawAnswer, type RawRequest, sendRaw } from "./raw-request.ts";
export { type HttpReceiver, type ReceivedRequest, startHttpReceiver } from "./receiver.ts";
export {
  createTestDatabase,
  createTestNamespace,
  runId,
  type TestDatabase,
  type TestNamespace,
  templateName,
  testLogger,
} from "./resources.ts";
export {
  adminAuth,
  type StartOptions,
  startTestService,
  TEST_ADMIN_TOKEN,
  type TestService,
  userAuth,
} from "./service.ts";
