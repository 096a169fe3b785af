import { applyUnsubscribe } from "../services/unsubscribes.ts";
import { consumeConsentRequests, type WorkerDeps } from "./deps.ts";

/** `identity.unsubscribes`: unsubscribe links (`topic.unsubscribed`) become unsubscribe opt-outs. */
export const consumeUnsubscribes = (deps: WorkerDeps) =>
  consumeConsentRequests(
    deps,
    "identity.unsubscribes",
    "topic.unsubscribed",
    applyUnsubscribe,
    "unsubscribe",
  );
