// HTTP request and response schemas of the message-sender service: batch sends and reports.
import Type, { type Static } from "typebox";
import { Actor, Body, IsoDateTime, Json, Nullable, Uuid } from "../common.ts";
import { OutboundStatus } from "../messages/message-sender.ts";
import { Personalisation, templatedSend } from "./message-sender.ts";

// Batch sends (`/api/v1/outbound/batch/`).

export const MAX_BATCH_RECIPIENTS = 10_000;

/** One recipient of a batch: an address or an identity (or both), with its own personalisation. */
export const BatchRecipient = Body({
  to_addr: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
  to_identity: Type.Optional(Uuid),
  personalisation: Type.Optional(Personalisation),
});
export type BatchRecipient = Static<typeof BatchRecipient>;

/**
 * `POST /api/v1/outbound/batch/`: shared `content` (or `template` with shared `personalisation`, which each
 * recipient's own overrides), `metadata` and `channel`. `id` (optional, chosen by the client) makes a retried
 * request safe: outbound ids derive from (batch id, recipient index), and a batch id seen before creates nothing.
 */
export const CreateBatchBody = Body({
  id: Type.Optional(Uuid),
  recipients: Type.Array(BatchRecipient, { minItems: 1, maxItems: MAX_BATCH_RECIPIENTS }),
  content: Type.Optional(Nullable(Type.String())),
  metadata: Type.Optional(Json),
  channel: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 64 }))),
  ...templatedSend,
});
export type CreateBatchBody = Static<typeof CreateBatchBody>;

/** Outbounds per status. */
export const StatusCounts = Type.Record(Type.String(), Type.Integer({ minimum: 0 }));
export type StatusCounts = Static<typeof StatusCounts>;

export const Batch = Type.Object({
  id: Uuid,
  total: Type.Integer({ minimum: 0 }),
  channel: Type.String(),
  template: Nullable(Type.Integer()),
  template_version: Nullable(Type.Integer()),
  test: Type.Boolean(),
  /** The batch's outbounds by status (`queued`, `submitted`, `delivered`, ...). */
  status_counts: StatusCounts,
  created_at: IsoDateTime,
  created_by: Actor,
});
export type Batch = Static<typeof Batch>;

// Reports.

const IsoDate = Type.String({ format: "date" });

/** `GET /api/v1/outbound/status_counts/`: days (UTC, created_at), inclusive; default the last 30 days. */
export const StatusCountsQuery = Type.Object({
  from: Type.Optional(IsoDate),
  to: Type.Optional(IsoDate),
});
export type StatusCountsQuery = Static<typeof StatusCountsQuery>;

export const DailyStatusCounts = Type.Array(
  Type.Object({ date: IsoDate, status: OutboundStatus, count: Type.Integer({ minimum: 0 }) }),
);
export type DailyStatusCounts = Static<typeof DailyStatusCounts>;

/** `GET /api/v1/outbound/channel_status_counts/`: as the status counts, split by channel too. */
export const DailyChannelStatusCounts = Type.Array(
  Type.Object({
    date: IsoDate,
    channel: Type.String(),
    status: OutboundStatus,
    count: Type.Integer({ minimum: 0 }),
  }),
);
export type DailyChannelStatusCounts = Static<typeof DailyChannelStatusCounts>;

/** Seed's `POST /api/v1/aggregate-outbounds/`: default end today, start 30 days before. */
export const AggregateOutboundsBody = Body({
  start: Type.Optional(IsoDate),
  end: Type.Optional(IsoDate),
});
export type AggregateOutboundsBody = Static<typeof AggregateOutboundsBody>;

/** Seed's `POST /api/v1/archive-outbounds/`: both days required, inclusive. */
export const ArchiveOutboundsBody = Body({ start: IsoDate, end: IsoDate });
export type ArchiveOutboundsBody = Static<typeof ArchiveOutboundsBody>;

/** `POST /api/v1/aggregate-outbounds/`: Seed's answer. */
export const OutboundsAggregated = Type.Object({ aggregate_outbounds: Type.Boolean() });
export type OutboundsAggregated = Static<typeof OutboundsAggregated>;

/** `POST /api/v1/archive-outbounds/`: the days this call archived. */
export const OutboundsArchived = Type.Object({
  archived_outbounds: Type.Boolean(),
  days: Type.Array(Type.String()),
});
export type OutboundsArchived = Static<typeof OutboundsArchived>;

/** `GET /api/v1/archive-outbounds/`: one day archived (Seed's ArchivedOutbounds), newest day first. */
export const ArchivedDay = Type.Object({
  date: IsoDate,
  /** The file's name inside ARCHIVE_DIR. */
  archive: Type.String(),
  /** The outbounds written to it (and purged). */
  count: Type.Integer({ minimum: 0 }),
  archived_at: IsoDateTime,
});
export type ArchivedDay = Static<typeof ArchivedDay>;
