/**
 * Builds the console's single-page app into dist/public/ (Vite, production mode); `pnpm build` (scripts/build.ts)
 * runs it after bundling the services. Run directly (`tsx build.ts [outDir]`) it builds into outDir if given.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "vite";

export const CONSOLE_ROOT = path.dirname(fileURLToPath(import.meta.url));

/** Builds the app into `outDir` (default dist/public/); returns how long it took (ms). */
export async function buildConsole(outDir = path.join(CONSOLE_ROOT, "dist", "public")): Promise<number> {
  const started = Date.now();
  await build({
    root: CONSOLE_ROOT,
    configFile: path.join(CONSOLE_ROOT, "vite.config.ts"),
    logLevel: "warn",
    build: { outDir, emptyOutDir: true },
  });
  return Date.now() - started;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const ms = await buildConsole(process.argv[2]);
  process.stdout.write(`build: console in ${ms} ms\n`);
}
