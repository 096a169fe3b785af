import { describe, expect, it } from "vitest";
import { ConsoleConfigError, consolePortFromEnv, serviceUrlsFromEnv } from "../server/services.ts";

// The console's server (and `pnpm start`, which runs it) stops at start-up naming a variable that is not valid.

/** The message of the ConsoleConfigError `fn` throws (fails the test when it throws nothing or something else). */
function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConsoleConfigError);
    return (err as Error).message;
  }
  throw new Error("expected a ConsoleConfigError");
}

describe("the console's configuration", () => {
  it("listens on CONSOLE_PORT, 3000 unless set, 0 for any free port", () => {
    expect(consolePortFromEnv({})).toBe(3000);
    expect(consolePortFromEnv({ CONSOLE_PORT: "8080" })).toBe(8080);
    expect(consolePortFromEnv({ CONSOLE_PORT: "0" })).toBe(0);
  });

  it.each(["", "abc", "3000x", "-1", "80.5", "65536", "1e3"])(
    "refuses CONSOLE_PORT=%j, naming it",
    (value) => {
      expect(refusal(() => consolePortFromEnv({ CONSOLE_PORT: value }))).toMatch(
        /^console: invalid configuration: CONSOLE_PORT: /,
      );
    },
  );

  it("forwards to <SERVICE>_URL, refusing one that is not an http(s) URL, naming it", () => {
    expect(serviceUrlsFromEnv({ SCHEDULER_URL: "https://scheduler.example.org" })).toEqual({
      identity: "http://127.0.0.1:3001",
      subscription: "http://127.0.0.1:3002",
      content: "http://127.0.0.1:3003",
      scheduler: "https://scheduler.example.org",
      "message-sender": "http://127.0.0.1:3005",
    });
    for (const url of ["scheduler:3004", "ftp://scheduler", "http://", ""]) {
      expect(refusal(() => serviceUrlsFromEnv({ SCHEDULER_URL: url }))).toMatch(
        /^console: invalid configuration: SCHEDULER_URL: /,
      );
    }
    expect(refusal(() => serviceUrlsFromEnv({ MESSAGE_SENDER_URL: "localhost:3005" }))).toMatch(
      /MESSAGE_SENDER_URL/,
    );
  });
});
