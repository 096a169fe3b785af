import { startConfiguredHookDispatcher } from "@tidings/hooks";
import { type Clock, type Stop, stopAll } from "@tidings/service-kit";
import { buildAdapter } from "../channels/adapters.ts";
import { ChannelCache } from "../channels/channel-cache.ts";
import type { Channels } from "../outbound/channel.ts";
import { defaultRedelivery } from "../outbound/redelivery.ts";
import { identityDirectory } from "../recipients/identity-directory.ts";
import { sendRecorder } from "../sending/claim.ts";
import { ClaimBatcher } from "../sending/claim-window.ts";
import { startAddressBookConsumer } from "./address-book.consumer.ts";
import { startConsentConsumer } from "./consent.consumer.ts";
import type { ConsumerDeps } from "./consumer-deps.ts";
import { OUTBOUND_SEND_MAX_ATTEMPTS, startOutboundSendConsumers } from "./outbound-send.consumer.ts";
import { startPollers } from "./pollers.ts";
import { startTemplatesConsumer } from "./templates.consumer.ts";

/**
 * The worker: one consumer per queue (address book, consent, templates, and the sender's three lanes) and the
 * timed passes, sharing one channel cache, and the REST hooks' dispatcher. Stops them in that order, then closes
 * the channels' adapters.
 */
export async function startConsumers(deps: ConsumerDeps, injected: Channels, clock: Clock): Promise<Stop> {
  const { config, db, logger } = deps;
  const channels = new ChannelCache(db, config.CHANNEL_CACHE_TTL_MS, {
    injected,
    build: (row) => buildAdapter(row, logger, config, db),
  });
  const stopAddressBook = await startAddressBookConsumer(deps);
  const stopConsent = await startConsentConsumer(deps);
  const stopTemplates = await startTemplatesConsumer(deps);
  const claims = new ClaimBatcher(db, config.WORKER_ID, config.OUTBOUND_CLAIM_TTL_MS);
  const stopSending = await startOutboundSendConsumers(deps, {
    db,
    channels,
    worker: config.WORKER_ID,
    claimTtlMs: config.OUTBOUND_CLAIM_TTL_MS,
    claims,
    recordSend: sendRecorder(db),
    pauseMaxWaitMs: config.CHANNEL_PAUSE_MAX_WAIT_MS,
    maxAttempts: OUTBOUND_SEND_MAX_ATTEMPTS,
    redelivery: defaultRedelivery(config),
    clock,
    dailyCap: config.DAILY_CAP_PER_PERSON,
    identities: identityDirectory(config),
  });
  const stopPollers = startPollers(deps, channels, clock);
  const stopHooks = startConfiguredHookDispatcher(db, logger, config);
  return stopAll(logger, {
    pollers: stopPollers,
    sending: stopSending,
    claims: async () => claims.close(),
    addressBook: stopAddressBook,
    consent: stopConsent,
    templates: stopTemplates,
    hooks: stopHooks,
    channels: () => channels.close(),
  });
}
