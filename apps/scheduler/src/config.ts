import { loadConfig } from "@tidings/service-kit";
import Type from "typebox";

export const loadSchedulerConfig = (env: Record<string, string | undefined> = process.env) =>
  loadConfig(
    "scheduler",
    {
      PORT: Type.Integer({ minimum: 1, maximum: 65535, default: 3004 }),
      /** How often the ticker looks for due slots. */
      TICK_INTERVAL_MS: Type.Integer({ minimum: 50, maximum: 60_000, default: 1_000 }),
    },
    env,
  );

export type SchedulerConfig = ReturnType<typeof loadSchedulerConfig>;
