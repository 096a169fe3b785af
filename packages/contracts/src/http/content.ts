// HTTP request schemas of the content service; its responses are the payloads in messages/content.ts.
import Type, { type Static, type TSchemaOptions } from "typebox";
import { Body, Json, ListQuery, Nullable, PatchBody } from "../common.ts";
import { listQuery, optionalFields } from "../fields.ts";
import { ContentType, TemplateWhatsapp } from "../messages/content.ts";
import { SmsEncoding } from "../sms.ts";

const Id = Type.Integer({ minimum: 1, maximum: 2147483647 });
const cronField = (options: TSchemaOptions = {}) => Type.String({ minLength: 1, maxLength: 64, ...options });
const timezone = (options: TSchemaOptions = {}) =>
  Type.String({
    minLength: 1,
    maxLength: 64,
    description: "An IANA time zone, e.g. Africa/Johannesburg",
    ...options,
  });
const label = (options: TSchemaOptions = {}) => Type.String({ maxLength: 100, ...options });
const contentType = (options: TSchemaOptions = {}) => Type.Union(ContentType.anyOf, options);

/** Seed's celery-style cron fields (day_of_week in cron numbering, Sunday=0); each defaults to `*`. */
export const CreateContentScheduleBody = Body({
  minute: Type.Optional(cronField({ default: "*" })),
  hour: Type.Optional(cronField({ default: "*" })),
  day_of_week: Type.Optional(cronField({ default: "*" })),
  day_of_month: Type.Optional(cronField({ default: "*" })),
  month_of_year: Type.Optional(cronField({ default: "*" })),
  timezone: Type.Optional(timezone({ default: "UTC" })),
});
export type CreateContentScheduleBody = Static<typeof CreateContentScheduleBody>;

export const UpdateContentScheduleBody = PatchBody({
  minute: cronField(),
  hour: cronField(),
  day_of_week: cronField(),
  day_of_month: cronField(),
  month_of_year: cronField(),
  timezone: timezone(),
});
export type UpdateContentScheduleBody = Static<typeof UpdateContentScheduleBody>;

export const ContentScheduleListQuery = ListQuery;
export type ContentScheduleListQuery = Static<typeof ContentScheduleListQuery>;

const messageSetFields = {
  short_name: Type.String({ minLength: 1, maxLength: 100 }),
  notes: Nullable(Type.String()),
  /** The message-sender channel to send through (e.g. `WHATSAPP`); null: the default channel. */
  channel: Nullable(Type.String({ minLength: 1, maxLength: 64 })),
  /** The set a subscription rolls over to when it finishes this one. */
  next_set: Nullable(Id),
  default_schedule: Id,
};

export const CreateMessageSetBody = Body({
  short_name: messageSetFields.short_name,
  label: Type.Optional(label({ default: "" })),
  notes: Type.Optional(messageSetFields.notes),
  channel: Type.Optional(messageSetFields.channel),
  next_set: Type.Optional(messageSetFields.next_set),
  default_schedule: messageSetFields.default_schedule,
  content_type: Type.Optional(contentType({ default: "text" })),
});
export type CreateMessageSetBody = Static<typeof CreateMessageSetBody>;

export const UpdateMessageSetBody = PatchBody({
  ...messageSetFields,
  label: label(),
  content_type: contentType(),
});
export type UpdateMessageSetBody = Static<typeof UpdateMessageSetBody>;

export const MessageSetListQuery = listQuery({
  short_name: Type.Optional(messageSetFields.short_name),
  content_type: Type.Optional(contentType()),
});
export type MessageSetListQuery = Static<typeof MessageSetListQuery>;

const messageFields = {
  messageset: Id,
  sequence_number: Type.Integer({ minimum: 1, maximum: 2147483647 }),
  lang: Type.String({ minLength: 1, maxLength: 6, description: "e.g. eng_ZA" }),
  text_content: Nullable(Type.String()),
  /** The binary content's id (audio for audio sets, an image for text sets). */
  binary_content: Nullable(Id),
  /** Copied into the outbound's metadata (e.g. a WhatsApp template definition). */
  metadata: Json,
};

/** A message needs text, binary content, or both. */
export const CreateMessageBody = Body({
  messageset: messageFields.messageset,
  sequence_number: messageFields.sequence_number,
  lang: messageFields.lang,
  text_content: Type.Optional(messageFields.text_content),
  binary_content: Type.Optional(messageFields.binary_content),
  metadata: Type.Optional(messageFields.metadata),
});
export type CreateMessageBody = Static<typeof CreateMessageBody>;

export const UpdateMessageBody = PatchBody(messageFields);
export type UpdateMessageBody = Static<typeof UpdateMessageBody>;

export const MessageListQuery = listQuery(
  optionalFields(messageFields, "messageset", "sequence_number", "lang"),
);
export type MessageListQuery = Static<typeof MessageListQuery>;

/** Copies a set and all its messages; the copy gets this (unique) short name. */
export const CloneMessageSetBody = Body({
  short_name: messageSetFields.short_name,
  label: Type.Optional(label()),
});
export type CloneMessageSetBody = Static<typeof CloneMessageSetBody>;

/** A window [from, to] of run times; at most `limit` runs are listed. */
export const ScheduleRunsQuery = Type.Object({
  from: Type.String({ format: "date-time" }),
  to: Type.String({ format: "date-time" }),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
});
export type ScheduleRunsQuery = Static<typeof ScheduleRunsQuery>;

export const BinaryContentListQuery = ListQuery;
export type BinaryContentListQuery = Static<typeof BinaryContentListQuery>;

const templateFields = {
  name: Type.String({ minLength: 1, maxLength: 255 }),
  type: Type.Union([Type.Literal("sms"), Type.Literal("email")]),
  /** Required for email templates, refused for SMS ones; may hold ((placeholders)). */
  subject: Nullable(Type.String({ minLength: 1, maxLength: 1000 })),
  body: Type.String({ minLength: 1, maxLength: 100_000 }),
  /** SMS templates: the WhatsApp template it is sent as outside the 24-hour window; null for none. */
  whatsapp: Nullable(TemplateWhatsapp),
};

export const CreateTemplateBody = Body({
  name: templateFields.name,
  type: templateFields.type,
  subject: Type.Optional(templateFields.subject),
  body: templateFields.body,
  whatsapp: Type.Optional(templateFields.whatsapp),
});
export type CreateTemplateBody = Static<typeof CreateTemplateBody>;

export const UpdateTemplateBody = PatchBody(templateFields);
export type UpdateTemplateBody = Static<typeof UpdateTemplateBody>;

export const TemplateListQuery = listQuery(optionalFields(templateFields, "name", "type"));
export type TemplateListQuery = Static<typeof TemplateListQuery>;

/** The values for the template's ((placeholders)), by name. */
export const PreviewTemplateBody = Body({
  personalisation: Type.Optional(
    Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()]), { default: {} }),
  ),
  /** Render this version rather than the latest. */
  version: Type.Optional(Type.Integer({ minimum: 1, maximum: 2147483647 })),
});
export type PreviewTemplateBody = Static<typeof PreviewTemplateBody>;

/** `POST /api/v1/message/preflight/`: a message's text as its author types it, checked without saving it. */
export const MessagePreflightBody = Body({
  text_content: Type.String({ maxLength: 10_000 }),
  /** The message set it is for: its channel's rules (a WhatsApp set's) apply too. */
  messageset: Type.Optional(Id),
});
export type MessagePreflightBody = Static<typeof MessagePreflightBody>;

/** What the text is as an SMS, and why saving it would be refused (or null). */
export const MessagePreflight = Type.Object({
  /** Null for an empty text. */
  encoding: Nullable(SmsEncoding),
  /** Characters (code points). */
  characters: Type.Integer({ minimum: 0 }),
  /** Its length in the encoding's units: septets (GSM-7, an extension character takes two) or UTF-16 code units. */
  units: Type.Integer({ minimum: 0 }),
  segments: Type.Integer({ minimum: 0 }),
  /** Units per segment: a single SMS's limit, or each part's when it takes several. */
  segment_limit: Type.Integer({ minimum: 0 }),
  /** The characters that force UCS-2, each once. */
  non_gsm_characters: Type.Array(Type.String()),
  /** The error saving it would give (its message), or null. */
  problem: Nullable(Type.String()),
});
export type MessagePreflight = Static<typeof MessagePreflight>;
