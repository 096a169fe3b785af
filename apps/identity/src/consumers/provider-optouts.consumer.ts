import { applyProviderOptOut } from "../services/keywords.ts";
import { consumeConsentRequests, type WorkerDeps } from "./deps.ts";

/** `identity.provider-optouts`: a provider's report of an unsubscribed recipient becomes a stop opt-out. */
export const consumeProviderOptOuts = (deps: WorkerDeps) =>
  consumeConsentRequests(
    deps,
    "identity.provider-optouts",
    "optout.reported",
    applyProviderOptOut,
    "provider opt-out",
  );
