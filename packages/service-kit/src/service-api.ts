/**
 * The API side of a service definition. Only `buildServiceApi` (./service.ts) imports this module, dynamically,
 * so a worker's bundle never loads it nor what it imports (fastify, its OpenAPI plugins, prom-client).
 */
import { buildApi } from "./app.ts";
import { trustedProxies } from "./config.ts";
import { deadLetterRoutes } from "./dead-letters.routes.ts";
import type { Database, ServiceConfig, ServiceDefinition, ServiceDeps } from "./definition.ts";
import type { Api } from "./routes.ts";

export async function buildDefinedApi<C extends ServiceConfig, D extends Database>(
  def: ServiceDefinition<C, D>,
  deps: ServiceDeps<C, D>,
): Promise<Api> {
  const registerRoutes = await def.routes();
  return buildApi(
    {
      service: def.name,
      version: def.version,
      logger: deps.logger,
      db: deps.db,
      broker: deps.broker,
      adminToken: deps.config.ADMIN_TOKEN,
      publicUrl: deps.config.PUBLIC_URL,
      trustProxy: trustedProxies(deps.config.TRUST_PROXY),
      publicRateLimit: deps.config.PUBLIC_RATE_LIMIT,
      databaseUrl: deps.config.DATABASE_URL,
      liveKeysOnly: def.keyKinds !== "enforced",
    },
    async (app) => {
      deadLetterRoutes(app, def.name, deps.broker);
      await registerRoutes(app, deps);
    },
  );
}
