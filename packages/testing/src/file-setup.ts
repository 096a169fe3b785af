/**
 * Runs before each test file (vitest's `setupFiles`). The files a vitest worker runs share its process and modules
 * (`isolate: false`, vitest.config.ts), so prom-client's default registry would still hold the counts of the files
 * before this one: each file starts from zero, as a service process does.
 */
import { register } from "prom-client";

register.resetMetrics();
