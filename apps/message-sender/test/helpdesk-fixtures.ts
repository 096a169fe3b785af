import { randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MessageName } from "@tidings/contracts";
import { adminAuth, serviceTest, type TestService, waitFor } from "@tidings/testing";
import { expect } from "vitest";
import type { MessageSenderConfig } from "../src/config.ts";
import type { Db } from "../src/db.ts";
import { createMessageSenderService } from "../src/service.ts";
import { callWithKey, issueKey, msisdn } from "./helpers.ts";

// The fixtures of the helpdesk tools' tests: the service with a worker (its log channel writing every message it
// sends to a file), and keys of each kind.

export type Svc = TestService<MessageSenderConfig, Db>;
export const WORKER_ID = "helpdesk-worker-1";

/** What the team keys may send to: an address and an identity. */
export const TEAM_ALLOWED = { to_addr: msisdn(), to_identity: randomUUID() };

/** Who calls: the admin token, or an API key. */
export type Caller = "admin" | string;

export const call = (
  svc: Svc,
  caller: Caller,
  method: "GET" | "POST" | "DELETE",
  url: string,
  payload?: object,
) =>
  caller === "admin"
    ? svc.app.inject({ method, url, headers: adminAuth, ...(payload ? { payload } : {}) })
    : callWithKey(svc, caller, method, url, payload);

/** `POST /api/v1/outbound/` (expecting 201): the outbound as answered. */
export async function send(
  svc: Svc,
  caller: Caller,
  payload: object,
): Promise<{ id: string; [k: string]: unknown }> {
  const res = await call(svc, caller, "POST", "/api/v1/outbound/", { metadata: {}, ...payload });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

/**
 * Waits until the worker has handled a deferred outbound's first `outbound.send`: claimed it (the claim sets
 * `updated_at`) and released it until its `not_before`.
 */
export const deferredByWorker = (svc: Svc, id: string) =>
  waitFor(
    async () => {
      const row = await svc.db.outbound.findUniqueOrThrow({ where: { id } });
      return row.updatedAt > row.createdAt && row.claimedUntil === null && row.claimedBy === null;
    },
    { what: `outbound ${id} deferred by the worker` },
  );

/** A day from now: a deferred outbound stays queued for the test. */
export const tomorrow = () => new Date(Date.now() + 86_400_000).toISOString();

export function helpdeskTest(events: readonly MessageName[] = []) {
  const logFile = join(mkdtempSync(join(tmpdir(), "helpdesk-")), "log-channel.ndjson");
  return serviceTest(
    createMessageSenderService(),
    { worker: true, env: { WORKER_ID, LOG_CHANNEL_FILE: logFile, DUE_POLL_INTERVAL_MS: "200" } },
    events,
  ).extend<{ keys: Record<"live" | "team" | "team2" | "test", string>; logFile: string }>({
    keys: [
      async ({ svc }, use) => {
        const [live, team, team2, test] = await Promise.all([
          issueKey(svc, "live"),
          issueKey(svc, "team", Object.values(TEAM_ALLOWED)),
          issueKey(svc, "team", Object.values(TEAM_ALLOWED)),
          issueKey(svc, "test"),
        ]);
        await use({ live, team, team2, test });
      },
      { scope: "file" },
    ],
    // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from its first parameter.
    logFile: [async ({}, use) => use(logFile), { scope: "file" }],
  });
}
