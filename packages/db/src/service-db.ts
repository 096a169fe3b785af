/** Each service's database: `<SERVICE>_DATABASE_URL`, by default `tidings_<service>` on the local server. */
export const DEFAULT_DATABASE_SERVER = "postgresql://postgres@127.0.0.1:5432";

export const databaseEnvVar = (service: string): string =>
  `${service.toUpperCase().replaceAll("-", "_")}_DATABASE_URL`;

export function databaseUrlFor(
  service: string,
  env: Record<string, string | undefined> = process.env,
): string {
  return env[databaseEnvVar(service)] ?? `${DEFAULT_DATABASE_SERVER}/tidings_${service.replaceAll("-", "_")}`;
}
