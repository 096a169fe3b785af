/**
 * `node --import tsx janitor.ts <pid> [<database prefix> ...]`: waits for the process <pid> to be gone, then deletes
 * the scratch namespaces it owned and drops the databases whose names start with a prefix (see startJanitor).
 */
import { setTimeout as sleep } from "node:timers/promises";
import { cleanupRun } from "./cleanup.ts";

const [pid, ...prefixes] = process.argv.slice(2);
const owner = Number(pid);
if (!Number.isInteger(owner) || owner <= 0) {
  throw new Error("usage: janitor.ts <pid> [<database prefix> ...]");
}

const alive = (p: number): boolean => {
  try {
    process.kill(p, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
};

while (alive(owner)) {
  await sleep(500);
}
await cleanupRun(owner, prefixes);
