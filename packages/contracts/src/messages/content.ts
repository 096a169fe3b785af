import Type, { type Static } from "typebox";
import { IsoDateTime, Json, Nullable } from "../common.ts";

const Id = Type.Integer({ minimum: 1 });
const CronField = Type.String({ minLength: 1, maxLength: 64 });

/** A content schedule ("protocol"): Seed's celery-style cron fields, day_of_week Sunday=0. */
export const ContentSchedule = Type.Object({
  id: Id,
  minute: CronField,
  hour: CronField,
  day_of_week: CronField,
  day_of_month: CronField,
  month_of_year: CronField,
  timezone: Type.String({ minLength: 1 }),
  cron_definition: Type.String(),
  created_at: IsoDateTime,
  updated_at: IsoDateTime,
});
export type ContentSchedule = Static<typeof ContentSchedule>;

export const ContentType = Type.Union([Type.Literal("text"), Type.Literal("audio")]);

export const MessageSet = Type.Object({
  id: Id,
  short_name: Type.String({ minLength: 1, maxLength: 100 }),
  label: Type.String({ maxLength: 100 }),
  notes: Nullable(Type.String()),
  channel: Nullable(Type.String({ maxLength: 64 })),
  next_set: Nullable(Id),
  default_schedule: Id,
  content_type: ContentType,
  created_at: IsoDateTime,
  updated_at: IsoDateTime,
});
export type MessageSet = Static<typeof MessageSet>;

export const Message = Type.Object({
  id: Id,
  messageset: Id,
  sequence_number: Type.Integer({ minimum: 1 }),
  lang: Type.String({ minLength: 1, maxLength: 6 }),
  text_content: Nullable(Type.String()),
  binary_content: Nullable(Id),
  metadata: Json,
  created_at: IsoDateTime,
  updated_at: IsoDateTime,
});
export type Message = Static<typeof Message>;

export const ContentDeleted = Type.Object({ id: Id });
export type ContentDeleted = Static<typeof ContentDeleted>;

export const MessageDeleted = Type.Object({
  id: Id,
  messageset: Id,
  sequence_number: Type.Integer({ minimum: 1 }),
  lang: Type.String(),
});
export type MessageDeleted = Static<typeof MessageDeleted>;
