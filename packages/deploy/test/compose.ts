import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parse } from "yaml";

export const ROOT = path.resolve(import.meta.dirname, "../../..");
export const COMPOSE_FILE = path.join(ROOT, "docker-compose.yml");

/** The parts of a resolved compose service the checks read (`docker compose config` writes these long forms). */
export interface ComposeService {
  image?: string;
  command?: string[];
  environment?: Record<string, string | null>;
  volumes?: { type: string; source?: string; target: string }[];
  ulimits?: Record<string, number | { soft: number; hard: number }>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
}

export interface ComposeModel {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

/** How `docker compose` runs here, or why it can't (the Docker CLI without its compose plugin, no Docker at all). */
export function composeCli(): { ok: true } | { ok: false; reason: string } {
  const run = spawnSync("docker", ["compose", "version"], { encoding: "utf8" });
  if (run.error) {
    return { ok: false, reason: `no docker CLI (${run.error.message})` };
  }
  if (run.status !== 0) {
    return {
      ok: false,
      reason: `docker has no compose plugin: ${(run.stderr || run.stdout).trim().split("\n")[0]}`,
    };
  }
  return { ok: true };
}

/**
 * `docker compose config` of the repository's file with exactly `env` as the variables it may interpolate: an env
 * file of them replaces the project's `.env` (a developer's would otherwise fill in what the test leaves unset),
 * and the shell's copies of them are removed.
 */
export function dockerComposeConfig(env: Record<string, string>): {
  status: number;
  model?: ComposeModel;
  stderr: string;
} {
  const envFile = path.join(mkdtempSync(path.join(tmpdir(), "tidings-compose-")), "env");
  writeFileSync(
    envFile,
    Object.entries(env)
      .map(([k, v]) => `${k}=${v}\n`)
      .join(""),
  );
  const shell = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !/^(ADMIN_TOKEN|UNSUBSCRIBE_|IDENTITY_|CONTENT_|COMPOSE_)/.test(k),
    ),
  );
  const run = spawnSync(
    "docker",
    [
      "compose",
      "--project-directory",
      ROOT,
      "-f",
      COMPOSE_FILE,
      "--env-file",
      envFile,
      "config",
      "--format",
      "json",
    ],
    { encoding: "utf8", env: shell },
  );
  return {
    status: run.status ?? 1,
    stderr: run.stderr,
    model: run.status === 0 ? (JSON.parse(run.stdout) as ComposeModel) : undefined,
  };
}

/**
 * The same file resolved without Docker: YAML anchors and merge keys, then compose's interpolation (`${VAR}`,
 * `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`, `${VAR?error}`, `$$`) of every string. Throws the message
 * of an unset required variable, as `docker compose` fails with it. Where Docker is present the tests check it
 * against `docker compose config`.
 */
export function resolveCompose(env: Record<string, string>): ComposeModel {
  const doc = parse(readFileSync(COMPOSE_FILE, "utf8"), { merge: true }) as Record<string, unknown>;
  const interpolate = (value: unknown): unknown => {
    if (typeof value === "string") {
      return value.replace(
        /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}/g,
        (match, name: string | undefined, colon: string, op: string, arg: string) => {
          if (match === "$$") {
            return "$";
          }
          const set = env[name as string];
          const missing = set === undefined || (colon === ":" && set === "");
          if (missing && op === "?") {
            throw new Error(`required variable ${name} is missing a value: ${arg}`);
          }
          return missing && op === "-" ? arg : (set ?? "");
        },
      );
    }
    if (Array.isArray(value)) {
      return value.map(interpolate);
    }
    if (value && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v)]));
    }
    return value;
  };
  const model = interpolate(doc) as ComposeModel;
  // As `docker compose config` writes them: environment values as strings.
  for (const service of Object.values(model.services)) {
    if (service.environment) {
      service.environment = Object.fromEntries(
        Object.entries(service.environment).map(([k, v]) => [k, v === null ? null : String(v)]),
      );
    }
  }
  return model;
}

/** The repository's Dockerfile, as `[instruction, arguments]` lines (continuations joined). */
export function dockerfile(): [string, string][] {
  const text = readFileSync(path.join(ROOT, "infra/docker/node.Dockerfile"), "utf8").replace(/\\\n/g, " ");
  return text
    .split("\n")
    .filter((line) => line.trim() && !line.trim().startsWith("#"))
    .map((line) => {
      const [instruction = "", ...rest] = line.trim().split(/\s+/);
      return [instruction.toUpperCase(), rest.join(" ")];
    });
}

/** The git-ignored files of the repository that match `pattern` (to check a secret file is never committed). */
export const isGitIgnored = (relative: string): boolean =>
  spawnSync("git", ["check-ignore", "-q", relative], { cwd: ROOT }).status === 0;

export const gitTracked = (relative: string): boolean =>
  execFileSync("git", ["ls-files", relative], { cwd: ROOT, encoding: "utf8" }).trim() !== "";
