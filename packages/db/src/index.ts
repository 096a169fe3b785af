export { prismaClientOptions, servicePool, statement, withStatements } from "./client.ts";
export { applyMigrations, dropDatabase, ensureDatabase, quoteIdent, withAdminClient } from "./migrations.ts";
export { DEFAULT_DATABASE_SERVER, databaseEnvVar, databaseUrlFor } from "./service-db.ts";
