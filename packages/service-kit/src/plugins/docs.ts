import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import fp from "fastify-plugin";
import { type Document, finishDocument } from "../openapi/document.ts";
import { documentRoute, type RouteDocOptions } from "../openapi/route.ts";

/**
 * The OpenAPI document and its UI at `/docs` (public): it describes the routes declared after it, with the error
 * responses, headers and examples each can give derived centrally (../openapi/).
 */
export const docsPlugin = fp<{ service: string; version: string } & RouteDocOptions>(
  async (app, { service, version, ...routeOptions }) => {
    // Before the docs plugin is registered: an onRoute hook only sees routes added after it.
    app.addHook("onRoute", (route) => {
      if (route.url === "/docs" || route.url.startsWith("/docs/")) {
        route.config = { ...route.config, public: true };
      }
    });
    await app.register(swagger, {
      openapi: {
        info: { title: `Tidings ${service}`, version },
        components: {
          securitySchemes: {
            token: {
              type: "apiKey",
              in: "header",
              name: "Authorization",
              description:
                "`Token <key>` (or `Bearer <key>`): the ADMIN_TOKEN, or a key issued by POST /api/v1/user/token/.",
            },
          },
        },
        security: [{ token: [] }],
      },
      transform: (route) => documentRoute(route, routeOptions),
      transformObject: (document) =>
        "openapiObject" in document
          ? finishDocument(document.openapiObject as Document)
          : document.swaggerObject,
    });
    await app.register(swaggerUi, { routePrefix: "/docs", uiConfig: { docExpansion: "list" } });
  },
  { name: "tidings-docs" },
);
