/**
 * The five services' OpenAPI documents (issue #21): each valid by a real validator, every operation named,
 * summarised, described and exemplified, with the error responses the route can really give and Idempotency-Key
 * on the POSTs that honour it; and each the same as the committed openapi/<service>.json, which the client's types
 * are generated from (`pnpm generate`). `UPDATE_CLIENT_TYPES=1 npx vitest run
 * packages/client/test/documents.int.test.ts` rewrites the committed documents.
 */
import { readFile, writeFile } from "node:fs/promises";
import SwaggerParser from "@apidevtools/swagger-parser";
import { type Api, type Schema, sample } from "@tidings/service-kit";
import { startTestService } from "@tidings/testing";
import { describe, expect, test } from "vitest";
import { contentService } from "../../../apps/content/src/service.ts";
import { identityService } from "../../../apps/identity/src/service.ts";
import { messageSenderService } from "../../../apps/message-sender/src/service.ts";
import { schedulerService } from "../../../apps/scheduler/src/service.ts";
import { subscriptionService } from "../../../apps/subscription/src/service.ts";
import { SERVICES, type ServiceName } from "../src/index.ts";

interface Media {
  schema?: unknown;
  example?: unknown;
}
interface Operation {
  operationId?: string;
  summary?: string;
  description?: string;
  security?: unknown[];
  parameters?: { name: string; in: string }[];
  requestBody?: { content: Record<string, Media> };
  responses: Record<string, { description: string; content?: Record<string, Media> }>;
}
type Document = { paths: Record<string, Record<string, Operation>> } & Record<string, unknown>;

const definitions = {
  identity: () => identityService,
  subscription: () => subscriptionService,
  content: () => contentService,
  scheduler: () => schedulerService(),
  "message-sender": () => messageSenderService,
};

interface Served {
  document: Document;
  /** The status each operation answers without a token. */
  anonymous: Record<string, number>;
}

const it = test.extend<{ served: Record<ServiceName, Served> }>({
  served: [
    // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from its first parameter.
    async ({}, use) => {
      const served = {} as Record<ServiceName, Served>;
      for (const name of SERVICES) {
        // biome-ignore lint/suspicious/noExplicitAny: each service has its own config and database types.
        const svc = await startTestService(definitions[name]() as any);
        try {
          const res = await svc.app.inject({ url: "/docs/json" });
          expect(res.statusCode).toBe(200);
          const document = res.json() as Document;
          served[name] = { document, anonymous: await anonymousStatuses(svc.app, document) };
        } finally {
          await svc.close();
        }
      }
      await use(served);
    },
    { scope: "file" },
  ],
});

const operationsOf = (doc: Document) =>
  Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({
      method,
      path,
      op,
      name: `${method.toUpperCase()} ${path}`,
    })),
  );

/** The status each operation answers without a token (its path parameters sampled from their schemas). */
async function anonymousStatuses(app: Api, doc: Document): Promise<Record<string, number>> {
  const statuses: Record<string, number> = {};
  for (const { method, path, op, name } of operationsOf(doc)) {
    const params = (op.parameters ?? []) as { name: string; in: string; schema?: Schema }[];
    const url = path.replace(/\{(\w+)\}/g, (_, p: string) =>
      encodeURIComponent(String(sample(params.find((x) => x.in === "path" && x.name === p)?.schema))),
    );
    const res = await app.inject({ method: method.toUpperCase() as "GET", url });
    statuses[name] = res.statusCode;
  }
  return statuses;
}

const documentFile = (name: ServiceName) => new URL(`../openapi/${name}.json`, import.meta.url);

describe.each(SERVICES)("%s's OpenAPI document", (name) => {
  it("is valid OpenAPI (swagger-parser)", async ({ served }) => {
    await expect(
      SwaggerParser.validate(structuredClone(served[name].document) as never),
    ).resolves.toBeDefined();
  }, 120_000);

  it("names, summarises, describes and exemplifies every operation", async ({ served }) => {
    const operations = operationsOf(served[name].document);
    expect(operations.length).toBeGreaterThan(10);
    const ids = operations.map(({ op }) => op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    const missing = operations.flatMap(({ op, name: opName }) => {
      const problems = [
        !op.operationId && "operationId",
        !op.summary?.trim() && "summary",
        !op.description?.trim() && "description",
        op.requestBody?.content["application/json"] &&
          op.requestBody.content["application/json"].example === undefined &&
          "request example",
        !Object.keys(op.responses).some((s) => /^2/.test(s)) && "a 2xx response",
        ...Object.entries(op.responses)
          .filter(
            ([, r]) =>
              r.content?.["application/json"]?.schema && r.content["application/json"].example === undefined,
          )
          .map(([status]) => `${status} example`),
      ];
      return problems.filter(Boolean).map((p) => `${opName}: ${p}`);
    });
    expect(missing).toEqual([]);
  });

  it("lists the error responses each route can give, and Idempotency-Key on the POSTs that honour it", async ({
    served,
  }) => {
    const wrong: string[] = [];
    for (const { method, path, op, name: opName } of operationsOf(served[name].document)) {
      const statuses = new Set(Object.keys(op.responses));
      const isPublic = Array.isArray(op.security) && op.security.length === 0;
      const hasId = path.includes("{");
      const idempotencyKey = op.parameters?.some((p) => p.in === "header" && p.name === "Idempotency-Key");
      const expectations: [boolean, string][] = [
        [statuses.has("401") === !isPublic, "401 exactly when it needs a token"],
        [statuses.has("403") || isPublic, "403 when it needs a token"],
        [!hasId || statuses.has("404"), "404 with an id in the path"],
        [
          statuses.has("413") === ["post", "put", "patch"].includes(method),
          "413 exactly when it reads a body",
        ],
        [!idempotencyKey || (method === "post" && !isPublic), "Idempotency-Key only on a POST with a token"],
        [!idempotencyKey || (statuses.has("409") && statuses.has("422")), "409 and 422 with Idempotency-Key"],
        [method !== "get" || hasId || !statuses.has("404"), "no 404 on a GET without an id"],
        [method !== "get" || !["409", "413", "422"].some((s) => statuses.has(s)), "no 409/413/422 on a GET"],
      ];
      expectations.push([
        (served[name].anonymous[opName] === 401) === !isPublic,
        `without a token it answers ${served[name].anonymous[opName]}`,
      ]);
      wrong.push(...expectations.filter(([ok]) => !ok).map(([, what]) => `${opName}: ${what}`));
    }
    expect(wrong).toEqual([]);
  });

  it("is the committed document the client's types are generated from", async ({ served }) => {
    const json = `${JSON.stringify(served[name].document, null, 2)}\n`;
    if (process.env.UPDATE_CLIENT_TYPES) {
      await writeFile(documentFile(name), json);
    }
    expect(await readFile(documentFile(name), "utf8").catch(() => "(missing)")).toBe(json);
  });
});
