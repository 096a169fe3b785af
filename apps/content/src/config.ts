import { loadConfig } from "@tidings/service-kit";
import Type from "typebox";

export const loadContentConfig = (env: Record<string, string | undefined> = process.env) =>
  loadConfig("content", { PORT: Type.Integer({ minimum: 1, maximum: 65535, default: 3003 }) }, env);

export type ContentConfig = ReturnType<typeof loadContentConfig>;
