import { type Outbound, type OutboundSend, toSeedTime } from "@tidings/contracts";
import type { Outbound as OutboundRow } from "../generated/prisma/client.ts";

// An outbound row as the API shows it, and as the outbound.send command that sends it.

/** An outbound as the API shows it, but for its `url` (which the route adds: see routes/links.ts). */
export type OutboundFields = Omit<Outbound, "url">;

export function toOutbound(row: OutboundRow): OutboundFields {
  return {
    id: row.id,
    version: row.version,
    to_addr: row.toAddr,
    to_identity: row.toIdentity,
    // Sensitive content is never shown (and is cleared once the send is final).
    content: row.sensitive ? null : row.content,
    content_masked: row.sensitive,
    delivered: row.delivered,
    attempts: row.attempts,
    metadata: row.metadata as Outbound["metadata"],
    channel: row.channel,
    resend: row.resend,
    status: row.status,
    provider_id: row.providerId,
    vumi_message_id: row.providerId,
    last_error: row.lastError,
    test: row.test,
    batch: row.batchId,
    template: row.template,
    template_version: row.templateVersion,
    priority: row.priority,
    sending_window: row.sendingWindow as Outbound["sending_window"],
    not_before: toSeedTime(row.notBefore),
    expires_at: toSeedTime(row.expiresAt),
    created_at: toSeedTime(row.createdAt),
    created_by: row.createdBy,
    created_by_schedule: row.createdBySchedule,
    created_by_subscription: row.createdBySubscription,
    sequence_number: row.sequenceNumber,
    updated_at: toSeedTime(row.updatedAt),
    updated_by: row.updatedBy,
    redacted: row.redactedAt !== null,
  };
}

/** The `outbound.send` command for a stored outbound (an empty to_addr is left out, as the contract wants). */
export function toSendCommand(row: OutboundRow): OutboundSend {
  return {
    id: row.id,
    ...(row.toAddr ? { to_addr: row.toAddr } : {}),
    ...(row.toIdentity ? { to_identity: row.toIdentity } : {}),
    content: row.content,
    channel: row.channel,
    metadata: row.metadata as OutboundSend["metadata"],
    ...(row.resend === null ? {} : { resend: row.resend }),
    ...(row.priority === "normal" ? {} : { priority: row.priority }),
    ...(row.sendingWindow ? { sending_window: row.sendingWindow as OutboundSend["sending_window"] } : {}),
    ...(row.notBefore ? { not_before: row.notBefore.toISOString() } : {}),
    ...(row.expiresAt ? { expires_at: row.expiresAt.toISOString() } : {}),
    ...(row.sensitive ? { sensitive: true } : {}),
  };
}
