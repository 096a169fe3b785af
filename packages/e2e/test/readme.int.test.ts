/**
 * The examples of every README and docs page (issue #21), run as written against the real processes: every fenced
 * `sh` or `ts` block right after a `<!-- example -->` line; a block that calls an API (`localhost:300N`) without
 * the marker fails the collection. Each runs on its own, from a directory whose `.env` holds the platform's
 * ADMIN_TOKEN and ARCHIVE_DIR (as the repository's root does after `./scripts/start.sh`, with ARCHIVE_DIR set), with
 * `localhost:3001`..`3005` pointed at the test's ports. A shell example runs with `-e -o pipefail`; any example
 * fails on a non-zero exit or an answer in the error shape.
 */
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { gunzipSync } from "node:zlib";
import { ok, type TidingsClient } from "@tidings/client";
import { ROOT, waitFor } from "@tidings/testing";
import pg from "pg";
import { describe, expect } from "vitest";
import { type Platform, SERVICES } from "./platform.ts";
import { platformTest } from "./support.ts";

const ADMIN_TOKEN = "e2e-readme-token-0123456789";
const run = promisify(execFile);

interface Example {
  file: string;
  line: number;
  lang: "sh" | "ts";
  code: string;
}

/** README.md, docs/*.md, and the README.md of every app and package and of every folder under infra/. */
async function markdownFiles(): Promise<string[]> {
  const inFolders = await Promise.all(
    ["apps", "packages"].map(async (top) =>
      (await readdir(path.join(ROOT, top)))
        .map((name) => `${top}/${name}/README.md`)
        .filter((f) => existsSync(path.join(ROOT, f))),
    ),
  );
  const infra = (await readdir(path.join(ROOT, "infra"), { recursive: true }))
    .filter((f) => path.basename(f) === "README.md")
    .map((f) => `infra/${f}`);
  const docs = (await readdir(path.join(ROOT, "docs")))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`);
  return ["README.md", ...inFolders.flat(), ...infra, ...docs];
}

/** The fenced blocks right after a `<!-- example -->` line; any other block calling an API is an error. */
export function examplesOf(file: string, markdown: string): Example[] {
  const lines = markdown.split("\n");
  const examples: Example[] = [];
  let open = -1;
  lines.forEach((line, i) => {
    if (!line.startsWith("```")) {
      return;
    }
    if (open >= 0) {
      open = -1;
      return;
    }
    open = i;
    const marked = lines[i - 1]?.trim() === "<!-- example -->";
    const end = lines.findIndex((l, j) => j > i && l.startsWith("```"));
    const code = lines.slice(i + 1, end).join("\n");
    const fence = /^```(sh|ts)\s*$/.exec(line);
    if (marked && !fence) {
      throw new Error(`${file}:${i}: an example marker not followed by a sh or ts block`);
    }
    if (!marked && /localhost:300[1-5]/.test(code)) {
      throw new Error(`${file}:${i + 1}: a block calling the API without an example marker`);
    }
    if (marked && fence) {
      examples.push({ file, line: i + 1, lang: fence[1] as "sh" | "ts", code });
    }
  });
  return examples;
}

const files = await markdownFiles();
const examples = (
  await Promise.all(files.map(async (f) => examplesOf(f, await readFile(path.join(ROOT, f), "utf8"))))
).flat();

/** The directory the examples run in (created by the `cwd` fixture), as the repository's root after ./scripts/start.sh. */
const dir = path.join(tmpdir(), `tidings-readme-${process.pid}-${randomUUID()}`);
const archiveDir = path.join(dir, "archive");
const dayAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);

/**
 * Delivered outbounds of the last two days (today's are not archived, days being over only after midnight): the
 * one of two days ago archived now, for the forget example's purge to work on; yesterday's left to the archive example.
 */
async function seedPastDays(platform: Platform, tidings: TidingsClient): Promise<void> {
  const db = new pg.Client(platform.databaseUrl("message-sender"));
  await db.connect();
  try {
    for (const days of [2, 1]) {
      const { id } = await ok(
        tidings.messageSender.POST("/api/v1/outbound/", {
          body: { to_addr: "+27820001099", content: `${days} days ago`, metadata: {} },
        }),
      );
      await waitFor(
        async () =>
          (await ok(tidings.messageSender.GET("/api/v1/outbound/{id}/", { params: { path: { id } } })))
            .status === "delivered",
        { what: "a seeded outbound delivered", timeoutMs: 20_000 },
      );
      await db.query(`UPDATE outbound SET created_at = created_at - $2 * interval '1 day' WHERE id = $1`, [
        id,
        days,
      ]);
    }
  } finally {
    await db.end();
  }
  await ok(
    tidings.messageSender.POST("/api/v1/archive-outbounds/", { body: { start: dayAgo(2), end: dayAgo(2) } }),
  );
}

// As ./scripts/start.sh (pnpm start) runs the platform: one UNSUBSCRIBE_SECRET, identity called with ADMIN_TOKEN.
const it = platformTest(
  {
    ADMIN_TOKEN,
    IDENTITY_TOKEN: ADMIN_TOKEN,
    UNSUBSCRIBE_SECRET: "e2e-readme-unsubscribe-secret-0123456789",
    ARCHIVE_DIR: archiveDir,
  },
  90_000,
).extend<{ cwd: string }>({
  /** `dir`, holding the platform's `.env`, once the past days are seeded; removed after the file's last test. */
  cwd: [
    async ({ platform, tidings }, use) => {
      await mkdir(dir);
      try {
        await writeFile(path.join(dir, ".env"), `ADMIN_TOKEN=${ADMIN_TOKEN}\nARCHIVE_DIR=${archiveDir}\n`);
        await seedPastDays(platform, tidings);
        await use(dir);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
    { scope: "file" },
  ],
});

/** `http://localhost:3001` (identity) .. `3005` (message-sender) as the test's processes listen. */
const onPlatform = (platform: Platform, code: string) =>
  code.replace(/http:\/\/localhost:300([1-5])/g, (_, n: string) => platform.base[SERVICES[Number(n) - 1]!]);

async function runExample(platform: Platform, cwd: string, example: Example): Promise<string> {
  const code = onPlatform(platform, example.code);
  if (example.lang === "sh") {
    const { stdout } = await run("bash", ["-e", "-o", "pipefail", "-c", code], { cwd, timeout: 60_000 });
    return stdout;
  }
  // Beside the e2e package, so `@tidings/client` resolves as in a workspace that depends on it.
  const file = path.join(ROOT, "packages/e2e", `.readme-example-${process.pid}-${example.line}.ts`);
  await writeFile(file, code);
  try {
    const tsx = fileURLToPath(import.meta.resolve("tsx"));
    const { stdout } = await run(process.execPath, ["--import", tsx, file], { cwd, timeout: 60_000 });
    return stdout;
  } finally {
    await rm(file, { force: true });
  }
}

describe("the READMEs' examples", () => {
  it("finds them", () => {
    const perFile = Object.fromEntries(
      files
        .map((f) => [f, examples.filter((e) => e.file === f).map((e) => e.lang)] as const)
        .filter(([, l]) => l.length),
    );
    expect(perFile).toEqual({
      "README.md": ["sh", "sh", "ts"],
      "apps/message-sender/README.md": ["sh", "sh", "sh", "sh", "sh", "sh"],
      "apps/scheduler/README.md": ["sh"],
      "apps/subscription/README.md": ["sh"],
      "packages/client/README.md": ["ts"],
      "packages/service-kit/README.md": ["sh", "sh", "sh"],
    });
    const unmarked = "Text\n\n```sh\ncurl http://localhost:3005/api/v1/outbound/\n```\n";
    expect(() => examplesOf("x.md", unmarked)).toThrow(
      "x.md:3: a block calling the API without an example marker",
    );
    expect(() => examplesOf("x.md", "<!-- example -->\n```json\n{}\n```\n")).toThrow(
      "x.md:1: an example marker",
    );
  });

  it.for(examples.map((e) => [`${e.file}:${e.line} (${e.lang})`, e] as const))(
    "%s runs as written",
    async ([_name, example], { platform, cwd }) => {
      const stdout = await runExample(platform, cwd, example);
      expect(stdout.trim()).not.toBe("");
      expect(stdout).not.toMatch(/"error"\s*:/);
    },
  );

  it("did what they say: messages, channels, tokens, the topic unsubscribe, the archives", async ({
    tidings,
  }) => {
    const outbounds = await ok(tidings.messageSender.GET("/api/v1/outbound/"));
    expect(outbounds.results.map((o) => o.content ?? "").sort()).toEqual([
      expect.stringMatching(/^Clinic day \d{4}-\d\d-\d\dT\d\d:\d\d/),
      "Hello",
      expect.stringMatching(
        /^Hi Naledi, Hillbrow is open until 8\.\n\nUnsubscribe: http:\/\/localhost:\d+\/unsubscribe\//,
      ),
      "Hi Sipho, the clinic is open on 5 May.",
      "Hi Thandi, the clinic is open on 5 May.",
      "Hi Thandi, your clinic visit is on 5 May.",
      "Welcome to Tidings",
      "Welcome to Tidings",
    ]);
    const channels = await ok(tidings.messageSender.GET("/api/v1/channel/"));
    expect(channels.results.map((c) => [c.channel_id, c.default]).sort()).toEqual([
      ["EMAIL", false],
      ["LOG", true],
      ["TWILIO_SMS", false],
      ["VONAGE_SMS", false],
    ]);
    const subscribers = await ok(
      tidings.subscription.GET("/api/v1/topics/{topic}/subscribers/", {
        params: { path: { topic: "outbreak/ke/nairobi" } },
      }),
    );
    expect(subscribers.count).toBe(0);
    // The team keys (service-kit's examples) and the test key (message-sender's) are message-sender's: the only
    // service that issues them.
    const senderTokens = await ok(tidings.messageSender.GET("/api/v1/user/tokens/"));
    expect(senderTokens.results.map((t) => [t.email, t.kind, t.revoked_at !== null]).sort()).toEqual([
      ["ci@example.org", "test", false],
      ["hub@example.org", "team", false],
      ["hub@example.org", "team", true],
    ]);
    // The forget example's person is the one both seeded sends went to: the day before yesterday's, archived
    // before the forget, rewritten by the workers' purge (no `.tmp` left); yesterday's, archived by the archive
    // example after it, written redacted.
    expect((await readdir(archiveDir)).sort()).toEqual([
      ".tidings-archive",
      `outbounds-${dayAgo(2)}.gz`,
      `outbounds-${dayAgo(1)}.gz`,
    ]);
    for (const days of [2, 1]) {
      const lines = gunzipSync(await readFile(path.join(archiveDir, `outbounds-${dayAgo(days)}.gz`)))
        .toString()
        .trim()
        .split("\n");
      expect(lines.map((l) => JSON.parse(l))).toEqual([
        expect.objectContaining({
          to_addr: "",
          content: null,
          metadata: {},
          redacted: true,
          status: "delivered",
        }),
      ]);
    }
  });
});
