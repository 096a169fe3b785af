/**
 * Worker processes must not load the API side (fastify, its OpenAPI plugins, route modules): `routes` of a service
 * definition and `buildServiceApi` import it dynamically, and the bundles (built by the test setup from the current
 * sources) keep it in chunks that only the `api` role imports. See README.md. (prom-client is loaded by both: every
 * worker serves /metrics.) No process loads OpenTelemetry's SDK unless tracing is configured: it is imported
 * dynamically by startTracing.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { ROOT } from "@tidings/testing";
import { describe, expect, it } from "vitest";

const API_ONLY = /node_modules\/\.pnpm\/(fastify@|@fastify\+swagger)/;
const TRACING_ONLY = /node_modules\/\.pnpm\/@opentelemetry\+sdk-node@/;
const SERVICES = ["content", "identity", "message-sender", "scheduler", "subscription"];

/** The modules one bundle file imports: statically (top-level statements) and dynamically (`import(...)`). */
async function importsOf(file: string): Promise<{ static: string[]; dynamic: string[] }> {
  const code = await readFile(file, "utf8");
  return {
    static: [...code.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s*"([^"]+)"|^import\s*"([^"]+)"/gm)].map(
      (m) => (m[1] ?? m[2]) as string,
    ),
    dynamic: [...code.matchAll(/\bimport\("([^"]+)"\)/g)].map((m) => m[1] as string),
  };
}

/** Every module a process loads from `entry` (following static imports only, or dynamic ones too). */
async function reachable(entry: string, followDynamic: boolean): Promise<Set<string>> {
  const seen = new Set<string>();
  const queue = [entry];
  for (let file = queue.pop(); file !== undefined; file = queue.pop()) {
    if (seen.has(file)) {
      continue;
    }
    seen.add(file);
    if (!file.endsWith(".js") || file.includes("/node_modules/")) {
      continue; // a third-party module: its own imports do not matter here
    }
    const imports = await importsOf(file);
    for (const spec of followDynamic ? [...imports.static, ...imports.dynamic] : imports.static) {
      queue.push(spec.startsWith(".") ? path.resolve(path.dirname(file), spec) : spec);
    }
  }
  return seen;
}

describe("service bundles", () => {
  it.each(SERVICES)(
    "%s: the worker's static imports hold no API-only package; the API's do",
    async (service) => {
      const main = path.join(ROOT, "apps", service, "dist", "main.js");
      const worker = [...(await reachable(main, false))].filter((m) => API_ONLY.test(m));
      const api = [...(await reachable(main, true))].filter((m) => API_ONLY.test(m));
      expect(worker).toEqual([]);
      expect(api.length).toBeGreaterThan(0);
    },
  );
  it.each(SERVICES)("%s: OpenTelemetry's SDK is loaded only when tracing starts", async (service) => {
    const main = path.join(ROOT, "apps", service, "dist", "main.js");
    expect([...(await reachable(main, false))].filter((m) => TRACING_ONLY.test(m))).toEqual([]);
    expect([...(await reachable(main, true))].filter((m) => TRACING_ONLY.test(m)).length).toBeGreaterThan(0);
  });
});
