// REST hooks (Seed webhooks): registration, signed delivery with retries, failure records. See README.
export { HookConfig, type HookSettings, startConfiguredHookDispatcher } from "./config.ts";
export { backoffMs, type HookDispatcherOptions, startHookDispatcher } from "./dispatcher.ts";
export { type HookEvent, hookDeliveriesCte, type Publication, publish } from "./publish.ts";
export {
  CreatedHookSchema,
  DeliverySchema,
  type HookRoutesOptions,
  HookSchema,
  registerHookRoutes,
} from "./routes.ts";
export { newSecret, signatureHeader } from "./signing.ts";
export { forgetHookDeliveries } from "./store.ts";
