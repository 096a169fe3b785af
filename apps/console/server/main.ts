/** `pnpm --filter @tidings/console start`: the console's server on CONSOLE_PORT (default 3000). */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { consoleSettingsOrExit, startConsoleServer } from "./server.ts";

const publicDir = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "dist", "public");
const settings = consoleSettingsOrExit(process.env);
const server = await startConsoleServer({
  ...settings,
  publicDir,
  host: process.env.HOST ?? "0.0.0.0",
});
process.stdout.write(`console: listening on ${server.url}\n`);
const stop = () => void server.close().then(() => process.exit(0));
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
