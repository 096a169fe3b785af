import { applyKeyword } from "../services/keywords.ts";
import { consumeConsentRequests, type WorkerDeps } from "./deps.ts";

/** `identity.inbound`: inbound STOP/START keywords become opt-outs/opt-ins. */
export const consumeInbound = (deps: WorkerDeps) =>
  consumeConsentRequests(deps, "identity.inbound", "inbound.received", applyKeyword, "inbound");
