// REST hooks (Seed webhooks): registration, signed delivery with retries, failure records. See README.
export { HookConfig, type HookSettings, startConfiguredHookDispatcher } from "./config.ts";
export {
  backoffMs,
  type HookDispatcherOptions,
  SIGNATURE_HEADER,
  signBody,
  startHookDispatcher,
} from "./dispatcher.ts";
export {
  CreatedHookSchema,
  DeliverySchema,
  type HookRoutesOptions,
  HookSchema,
  registerHookRoutes,
} from "./routes.ts";
export { enqueueHookEvent, forgetHookDeliveries, type HookEventOptions } from "./store.ts";
