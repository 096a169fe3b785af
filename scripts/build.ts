/**
 * `pnpm build [name ...]`: bundles every service (or those named) into apps/<service>/dist/, which is what
 * service processes run (see packages/testing/src/build.ts), and builds the console (apps/console/dist/public/)
 * when no name or `console` is given.
 */
import { buildConsole } from "../apps/console/build.ts";
import { buildServices } from "../packages/testing/src/build.ts";

const names = process.argv.slice(2);
const services = names.filter((name) => name !== "console");
const ms = await buildServices(services.length > 0 || names.length > 0 ? services : undefined);
process.stdout.write(
  `build: ${names.length > 0 ? services.join(", ") || "no service" : "every service"} in ${ms} ms\n`,
);
if (names.length === 0 || names.includes("console")) {
  process.stdout.write(`build: console in ${await buildConsole()} ms\n`);
}
