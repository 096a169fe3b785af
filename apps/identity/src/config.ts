import { loadConfig } from "@tidings/service-kit";
import Type from "typebox";

export const loadIdentityConfig = (env: Record<string, string | undefined> = process.env) =>
  loadConfig("identity", { PORT: Type.Integer({ minimum: 1, maximum: 65535, default: 3001 }) }, env);

export type IdentityConfig = ReturnType<typeof loadIdentityConfig>;
