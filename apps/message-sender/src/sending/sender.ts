import type { RedeliveryPolicy } from "@tidings/contracts";
import type { Clock } from "@tidings/service-kit";
import type { ChannelCache } from "../channels/channel-cache.ts";
import type { Db } from "../db.ts";
import type { AcceptedSend } from "../outbound/status.ts";
import type { IdentityDirectory } from "../recipients/identity-directory.ts";
import type { ClaimBatcher } from "./claim-window.ts";

/** What a worker sends with: its database, its channels, its claim's terms and its clock. */
export interface Sender {
  db: Db;
  channels: ChannelCache;
  /** The longest to hold a message for a paused (throttled) channel before handing it to a retry. */
  pauseMaxWaitMs: number;
  /** outbound.send deliveries before a passing failure is recorded as a failed task (the queue's maxAttempts). */
  maxAttempts: number;
  /** This worker, as recorded in `claimed_by`. */
  worker: string;
  claimTtlMs: number;
  /** Stores and claims the outbounds of this worker's sends together (one statement for those asked at once). */
  claims: ClaimBatcher;
  /** Records a send the provider accepted (sendRecorder: with the others that finish at the same time). */
  recordSend: (send: AcceptedSend) => Promise<boolean>;
  /** The time for sending windows and expiry (tests control it). */
  clock: Clock;
  /** Messages per person per day (DAILY_CAP_PER_PERSON) where the channel sets none; 0 = no cap. */
  dailyCap: number;
  /** The redelivery policy of channels that set none (for a failed report that overtakes a send). */
  redelivery: RedeliveryPolicy;
  /** Finds or creates the identity of an outbound that has only `to_addr` (IDENTITY_URL). */
  identities?: IdentityDirectory;
}
