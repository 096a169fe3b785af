import type { SqlExecutor } from "@tidings/amqp";
import pino from "pino";
import Type from "typebox";
import { describe, expect, it } from "vitest";
import { buildApi } from "../app.ts";
import { errorResponses } from "../routes.ts";
import { operationIdOf } from "./document.ts";
import { routeError } from "./route.ts";

const db: SqlExecutor = { $queryRawUnsafe: async () => [] as never, $executeRawUnsafe: async () => 0 };

interface Operation {
  operationId: string;
  security?: unknown[];
  parameters?: { name: string; in: string; style?: string; explode?: boolean }[];
  requestBody?: { content: Record<string, { example?: unknown }> };
  responses: Record<string, { description: string; content?: Record<string, { example?: unknown }> }>;
}

async function documentOf(publicRateLimit?: number) {
  const Thing = Type.Object({ id: Type.Integer(), name: Type.String({ minLength: 1 }) });
  const ThingId = Type.Object({ id: Type.Integer() });
  const aThing = async () => ({ id: 1, name: "x" });
  const app = await buildApi(
    { service: "svc", version: "1", logger: pino({ level: "silent" }), db, publicRateLimit },
    (api) => {
      const body = Type.Object({ name: Type.String() });
      api.post(
        "/api/v1/things/",
        { schema: { summary: "s", body, response: { 201: Thing, ...errorResponses } } },
        aThing,
      );
      api.get(
        "/api/v1/things/:id/",
        { schema: { params: ThingId, response: { 200: Thing, ...errorResponses } } },
        aThing,
      );
      const inUse = routeError("THING_IN_USE: it is used.");
      api.delete(
        "/api/v1/things/:id/",
        { schema: { params: ThingId, response: { 204: Type.Null(), ...errorResponses, 409: inUse } } },
        async () => null,
      );
      api.post(
        "/api/v1/run/",
        { config: { idempotent: false }, schema: { response: { 202: Thing } } },
        aThing,
      );
      api.get("/open", { config: { public: true } }, async () => ({}));
      const filters = Type.Record(Type.String(), Type.String());
      api.get("/api/v1/search/", { schema: { querystring: filters, response: { 200: Thing } } }, aThing);
    },
  );
  const doc = (await app.inject({ url: "/docs/json" })).json() as {
    paths: Record<string, Record<string, Operation>>;
  };
  await app.close();
  return doc.paths;
}

const statuses = (op: Operation | undefined) => Object.keys(op?.responses ?? {}).sort();

describe("the OpenAPI document's derived parts", () => {
  it("lists the errors each route can give: validation, auth, not found, idempotency, body size, limits", async () => {
    const paths = await documentOf();
    expect(statuses(paths["/api/v1/things/"]?.post)).toEqual(
      ["201", "400", "401", "403", "409", "413", "422", "429"].sort(),
    );
    expect(statuses(paths["/api/v1/things/{id}/"]?.get)).toEqual(["200", "400", "401", "403", "404", "429"]);
    expect(statuses(paths["/api/v1/run/"]?.post)).toEqual(["202", "400", "401", "403", "413", "429"]);
    // A public route without a schema: no auth errors (no per-address limit configured) and no security.
    const open = paths["/open"]?.get;
    expect(statuses(open)).toEqual(["200"]);
    expect(open?.security).toEqual([]);
    expect(statuses((await documentOf(60))["/open"]?.get)).toEqual(["200", "429"]);
  });

  it("keeps a route-specific error with its description beside the derived ones", async () => {
    const del = (await documentOf())["/api/v1/things/{id}/"]?.delete;
    expect(statuses(del)).toEqual(["204", "400", "401", "403", "404", "409", "429"]);
    expect(del?.responses["409"]?.description).toBe("THING_IN_USE: it is used.");
    expect(del?.responses["404"]?.content?.["application/json"]?.example).toMatchObject({
      error: { code: "NOT_FOUND" },
      detail: "Not found.",
    });
  });

  it("documents Idempotency-Key on the POSTs that honour it only", async () => {
    const paths = await documentOf();
    const header = (op: Operation | undefined) =>
      op?.parameters?.find((p) => p.in === "header" && p.name === "Idempotency-Key");
    expect(header(paths["/api/v1/things/"]?.post)).toBeDefined();
    expect(header(paths["/api/v1/run/"]?.post)).toBeUndefined();
    expect(header(paths["/api/v1/things/{id}/"]?.delete)).toBeUndefined();
  });

  it("names every operation and gives its JSON bodies examples that fit their schemas", async () => {
    const paths = await documentOf();
    const post = paths["/api/v1/things/"]?.post;
    expect(post?.operationId).toBe("postThings");
    expect(paths["/api/v1/things/{id}/"]?.get?.operationId).toBe("getThingsById");
    expect(post?.requestBody?.content["application/json"]?.example).toEqual({ name: "x" });
    expect(post?.responses["201"]?.content?.["application/json"]?.example).toEqual({ id: 1, name: "x" });
    expect(post?.responses["201"]?.description).toBe("Created.");
  });

  it("documents a free-form query string as one exploded object parameter", async () => {
    const search = (await documentOf())["/api/v1/search/"]?.get;
    expect(search?.parameters).toEqual([
      expect.objectContaining({ name: "filters", in: "query", style: "form", explode: true }),
    ]);
  });

  it("derives operation ids from the method and the path after /api/v<n>", () => {
    expect(operationIdOf("post", "/api/v1/identities/{id}/verify/confirm/")).toBe(
      "postIdentitiesByIdVerifyConfirm",
    );
    expect(operationIdOf("get", "/api/v1/identities/{id}/addresses/{address_type}")).toBe(
      "getIdentitiesByIdAddressesByAddressType",
    );
    expect(operationIdOf("get", "/media/{key}")).toBe("getMediaByKey");
    expect(operationIdOf("get", "/api/v1/messageset_languages/")).toBe("getMessagesetLanguages");
  });

  it("gives each error response an example of the one error shape", async () => {
    const get = (await documentOf())["/api/v1/things/{id}/"]?.get;
    expect(get?.responses["401"]?.content?.["application/json"]?.example).toMatchObject({
      error: { code: "UNAUTHENTICATED" },
    });
  });
});
