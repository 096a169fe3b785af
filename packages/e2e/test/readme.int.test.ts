/**
 * The READMEs' examples (issue #21; FILES), run as written against the real processes: every fenced `sh` or `ts` block
 * right after a `<!-- example -->` line. Each runs on its own, from a directory whose `.env` holds the platform's
 * ADMIN_TOKEN (as the repository's root does after `./scripts/start.sh`), with `localhost:3001`..`3005` pointed
 * at the test's ports. A shell example runs with `-e -o pipefail`; any example fails on a non-zero exit or an
 * answer in the error shape.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { ok } from "@tidings/client";
import { ROOT } from "@tidings/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clientOf, type Platform, SERVICES, startPlatform } from "./platform.ts";

const ADMIN_TOKEN = "e2e-readme-token-0123456789";
const FILES = ["README.md", "packages/service-kit/README.md", "apps/message-sender/README.md"];
const run = promisify(execFile);

interface Example {
  file: string;
  line: number;
  lang: "sh" | "ts";
  code: string;
}

/** The fenced blocks right after a `<!-- example -->` line. */
export function examplesOf(file: string, markdown: string): Example[] {
  const lines = markdown.split("\n");
  const examples: Example[] = [];
  lines.forEach((line, i) => {
    if (line.trim() !== "<!-- example -->") {
      return;
    }
    const fence = /^```(sh|ts)\s*$/.exec(lines[i + 1] ?? "");
    if (!fence) {
      throw new Error(`${file}:${i + 1}: an example marker not followed by a sh or ts block`);
    }
    const end = lines.findIndex((l, j) => j > i + 1 && l.startsWith("```"));
    examples.push({
      file,
      line: i + 2,
      lang: fence[1] as "sh" | "ts",
      code: lines.slice(i + 2, end).join("\n"),
    });
  });
  return examples;
}

const examples = (
  await Promise.all(FILES.map(async (f) => examplesOf(f, await readFile(path.join(ROOT, f), "utf8"))))
).flat();

let platform: Platform;
let dir: string;

beforeAll(async () => {
  platform = await startPlatform({ ADMIN_TOKEN });
  dir = await mkdtemp(path.join(tmpdir(), "tidings-readme-"));
  await writeFile(path.join(dir, ".env"), `ADMIN_TOKEN=${ADMIN_TOKEN}\n`);
}, 120_000);

afterAll(async () => {
  await platform?.stop();
  await rm(dir, { recursive: true, force: true });
  const errors = platform?.errors() ?? [];
  expect(errors, errors.join("\n")).toEqual([]);
}, 60_000);

/** `http://localhost:3001` (identity) .. `3005` (message-sender) as the test's processes listen. */
const onPlatform = (code: string) =>
  code.replace(/http:\/\/localhost:300([1-5])/g, (_, n: string) => platform.base[SERVICES[Number(n) - 1]!]);

async function runExample(example: Example): Promise<string> {
  const code = onPlatform(example.code);
  if (example.lang === "sh") {
    const { stdout } = await run("bash", ["-e", "-o", "pipefail", "-c", code], { cwd: dir, timeout: 60_000 });
    return stdout;
  }
  // Beside the e2e package, so `@tidings/client` resolves as in a workspace that depends on it.
  const file = path.join(ROOT, "packages/e2e", `.readme-example-${process.pid}-${example.line}.ts`);
  await writeFile(file, code);
  try {
    const tsx = fileURLToPath(import.meta.resolve("tsx"));
    const { stdout } = await run(process.execPath, ["--import", tsx, file], { cwd: dir, timeout: 60_000 });
    return stdout;
  } finally {
    await rm(file, { force: true });
  }
}

describe("the README's examples", () => {
  it("finds them", () => {
    expect(examples.map((e) => e.lang)).toEqual(["sh", "sh", "ts", "sh", "sh", "sh", "sh"]);
  });

  it.each(examples.map((e) => [`${e.file}:${e.line} (${e.lang})`, e] as const))(
    "%s runs as written",
    async (_name, example) => {
      const stdout = await runExample(example);
      expect(stdout.trim()).not.toBe("");
      expect(stdout).not.toMatch(/"error"\s*:/);
    },
    90_000,
  );

  it("sent what they asked for: the identities and messages exist", async () => {
    const tidings = clientOf(platform, ADMIN_TOKEN);
    const outbounds = await ok(tidings.messageSender.GET("/api/v1/outbound/"));
    expect(outbounds.results.map((o) => o.content)).toEqual(["Welcome to Tidings", "Welcome to Tidings"]);
    const tokens = await ok(tidings.identity.GET("/api/v1/user/tokens/"));
    expect(tokens.results.map((t) => [t.email, t.kind, t.revoked_at !== null])).toEqual([
      ["hub@example.org", "team", true],
    ]);
    const senderTokens = await ok(tidings.messageSender.GET("/api/v1/user/tokens/"));
    expect(senderTokens.results.map((t) => [t.email, t.kind])).toEqual([["ci@example.org", "test"]]);
  });
});
