/**
 * Compiles each service to one JavaScript bundle, `apps/<service>/dist/main.js` (plus a chunk per lazily
 * imported module), which service processes run instead of transpiling TypeScript at start-up (`tsx` cost
 * ~35-76 MB of RSS and seconds of start-up per process). Workspace packages (`@tidings/*`, TypeScript
 * sources) are bundled in; third-party packages stay external and load from node_modules at run time.
 */
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { isBuiltin } from "node:module";
import path from "node:path";
import { build, type Plugin } from "esbuild";
import { ROOT } from "./processes.ts";

/** Files a build no longer produces are deleted once this old: a running process may still import them. */
const STALE_AFTER_MS = 24 * 3600_000;
const RESOLVING = Symbol("resolving");

/**
 * Leaves every third-party import out of the bundle, rewritten to the path of the file it resolves to,
 * relative to the bundle. A bare name would not do: with pnpm, a service's own node_modules holds only its
 * direct dependencies, not those of the workspace packages bundled into it (fastify, amqplib, ...).
 * Resolution uses Node's conditions (`import`/`require`, `node`, `default`), so the same file loads as
 * under `tsx`.
 */
function externalThirdParty(outdir: string): Plugin {
  return {
    name: "external-third-party",
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (args.pluginData === RESOLVING || args.path.startsWith("@tidings/")) {
          return undefined;
        }
        if (isBuiltin(args.path)) {
          return { path: args.path, external: true };
        }
        const resolved = await b.resolve(args.path, {
          kind: args.kind,
          resolveDir: args.resolveDir,
          importer: args.importer,
          pluginData: RESOLVING,
        });
        if (resolved.errors.length > 0) {
          return { errors: resolved.errors };
        }
        return {
          path: `./${path.relative(outdir, resolved.path).split(path.sep).join("/")}`,
          external: true,
        };
      });
    },
  };
}

/** Writes a file by renaming a complete temporary copy over it (never half-written for a starting process). */
async function writeAtomically(file: string, contents: Uint8Array): Promise<void> {
  const existing = await readFile(file).catch(() => undefined);
  if (existing?.equals(contents)) {
    return; // unchanged: concurrent builds of the same sources write nothing
  }
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, contents);
  await rename(tmp, file);
}

/** Bundles one service into apps/<service>/dist/. */
async function buildService(service: string): Promise<void> {
  const outdir = path.join(ROOT, "apps", service, "dist");
  const result = await build({
    entryPoints: [path.join(ROOT, "apps", service, "src", "main.ts")],
    outdir,
    bundle: true,
    // Lazily imported modules (the provider SDKs' channels) stay separate chunks, so their SDKs still load
    // only on first use; in one file esbuild would hoist their imports to the top.
    splitting: true,
    chunkNames: "[name]-[hash]",
    format: "esm",
    platform: "node",
    target: "node20",
    // Node's resolution, not the bundler defaults (`module` condition and main field).
    conditions: [],
    mainFields: ["main"],
    sourcemap: "linked",
    write: false,
    logLevel: "warning",
    plugins: [externalThirdParty(outdir)],
  });
  const written = new Set(result.outputFiles.map((file) => file.path));
  await mkdir(outdir, { recursive: true });
  await Promise.all(result.outputFiles.map((file) => writeAtomically(file.path, file.contents)));
  for (const name of await readdir(outdir)) {
    const file = path.join(outdir, name);
    // A concurrent build may have pruned it already.
    const age = await stat(file).then(
      (s) => Date.now() - s.mtimeMs,
      () => 0,
    );
    if (!written.has(file) && age > STALE_AFTER_MS) {
      await rm(file, { force: true });
    }
  }
}

/** The services: the apps under apps/ with a `src/main.ts` (not the console, a web app with its own build). */
export async function serviceNames(): Promise<string[]> {
  return (await readdir(path.join(ROOT, "apps"), { withFileTypes: true }))
    .filter((e) => e.isDirectory() && existsSync(path.join(ROOT, "apps", e.name, "src", "main.ts")))
    .map((e) => e.name);
}

/** Bundles the given services (default: every one, see serviceNames); returns how long it took. */
export async function buildServices(services?: string[]): Promise<number> {
  const started = Date.now();
  const all = services ?? (await serviceNames());
  await Promise.all(all.map(buildService));
  return Date.now() - started;
}
