/**
 * The `it` of an e2e file: the whole platform (./platform.ts) as a file-scoped fixture, started once for the file and
 * stopped after its last test.
 */

import type { TidingsClient } from "@tidings/client";
import { closing } from "@tidings/testing";
import { expect, test, vi } from "vitest";
import { clientOf, type Platform, startPlatform } from "./platform.ts";

/** Ten processes starting at once on two cores, under load: what the first test of a file may wait for them. */
const PLATFORM_START_MS = 150_000;

export interface PlatformFixtures {
  /** The ten processes, started with the file's `env` when a test first asks for them, stopped after the last test. */
  platform: Platform;
  /** The typed client of the platform's APIs, with the file's ADMIN_TOKEN. */
  tidings: TidingsClient;
}

/**
 * The `it` of a test file driving the platform started with `env`. Stopping it fails the file if any process logged
 * an error (printing what it said). Whichever test runs first starts the platform, so every test of the file gets
 * `PLATFORM_START_MS` more than its own time (`ownMs`).
 */
export function platformTest(env: { ADMIN_TOKEN: string } & Record<string, string>, ownMs = 30_000) {
  vi.setConfig({ testTimeout: PLATFORM_START_MS + ownMs });
  return test.extend<PlatformFixtures>({
    platform: [
      closing(
        () => startPlatform(env),
        async (platform) => {
          await platform.stop();
          const errors = platform.errors();
          expect(errors, errors.join("\n")).toEqual([]);
        },
      ),
      { scope: "file" },
    ],
    tidings: [async ({ platform }, use) => use(clientOf(platform, env.ADMIN_TOKEN)), { scope: "file" }],
  });
}
