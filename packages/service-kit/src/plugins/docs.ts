import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import fp from "fastify-plugin";

/** The OpenAPI document and its UI at `/docs` (public): it describes the routes declared after it. */
export const docsPlugin = fp<{ service: string; version: string }>(
  async (app, { service, version }) => {
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
          securitySchemes: { token: { type: "apiKey", in: "header", name: "Authorization" } },
        },
        security: [{ token: [] }],
      },
    });
    await app.register(swaggerUi, { routePrefix: "/docs", uiConfig: { docExpansion: "list" } });
  },
  { name: "tidings-docs" },
);
