/**
 * `pnpm build [service ...]`: bundles every service (or those named) into apps/<service>/dist/, which is what
 * service processes run (see packages/testing/src/build.ts).
 */
import { buildServices } from "../packages/testing/src/build.ts";

const services = process.argv.slice(2);
const ms = await buildServices(services.length > 0 ? services : undefined);
process.stdout.write(`build: ${services.length > 0 ? services.join(", ") : "every service"} in ${ms} ms\n`);
