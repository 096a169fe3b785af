import Type, { type Static } from "typebox";
import { IsoDateTime, Json, Nullable } from "../common.ts";
import { timestampFields } from "../fields.ts";
import { SmsEncoding } from "../sms.ts";

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
  ...timestampFields,
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
  ...timestampFields,
});
export type MessageSet = Static<typeof MessageSet>;

/** How a text goes out as SMS: its encoding (null without text) and how many segments it takes. */
const smsFields = {
  encoding: Nullable(SmsEncoding),
  segments: Type.Integer({ minimum: 0 }),
};

const messageFields = {
  id: Id,
  messageset: Id,
  sequence_number: Type.Integer({ minimum: 1 }),
  lang: Type.String({ minLength: 1, maxLength: 6 }),
  text_content: Nullable(Type.String()),
  metadata: Json,
  ...timestampFields,
};

/**
 * A message. `encoding`, `segments` and `binary_content_url` are optional in the schema only so that
 * consumers keep accepting events published before they existed; the content service always sends them.
 */
export const Message = Type.Object({
  ...messageFields,
  binary_content: Nullable(Id),
  /** The public URL of the binary content's file (Seed's `image_url` / `voice_speech_url`). */
  binary_content_url: Type.Optional(Nullable(Type.String())),
  encoding: Type.Optional(smsFields.encoding),
  segments: Type.Optional(smsFields.segments),
});
export type Message = Static<typeof Message>;

/** An uploaded file (audio for audio sets, an image for text sets), served publicly at `content`. */
export const BinaryContent = Type.Object({
  id: Id,
  /** The file's public URL (an unguessable name; no token needed, so providers can fetch it). */
  content: Type.String(),
  filename: Type.String({ description: "The name it was uploaded with" }),
  mime_type: Type.String(),
  size: Type.Integer({ minimum: 0, description: "Bytes" }),
  ...timestampFields,
});
export type BinaryContent = Static<typeof BinaryContent>;

/** A message with its binary content nested (Seed's `GET /message/{id}/content`). */
export const MessageContent = Type.Object({
  ...messageFields,
  binary_content: Nullable(BinaryContent),
  encoding: smsFields.encoding,
  segments: smsFields.segments,
});
export type MessageContent = Static<typeof MessageContent>;

/** A message set with its messages (each with its binary content nested), in sequence then lang order. */
export const MessageSetMessages = Type.Object({
  ...MessageSet.properties,
  messages: Type.Array(MessageContent),
});
export type MessageSetMessages = Static<typeof MessageSetMessages>;

/** `{<messageset id>: [its distinct langs, sorted]}`. */
export const MessageSetLanguages = Type.Record(Type.String(), Type.Array(Type.String()));
export type MessageSetLanguages = Static<typeof MessageSetLanguages>;

/** A schedule's run times in a window, in UTC, computed in the schedule's time zone. */
export const ScheduleRuns = Type.Object({
  schedule: Id,
  timezone: Type.String(),
  cron_definition: Type.String(),
  from: IsoDateTime,
  to: IsoDateTime,
  runs: Type.Array(IsoDateTime),
  /** True when there are more runs in the window than `limit`. */
  truncated: Type.Boolean(),
});
export type ScheduleRuns = Static<typeof ScheduleRuns>;

export const TemplateType = Type.Union([Type.Literal("sms"), Type.Literal("email")]);
export type TemplateType = Static<typeof TemplateType>;

/**
 * The WhatsApp template (a provider's pre-approved message) a template is sent as outside WhatsApp's 24-hour
 * window, e.g. `{"templates": [{"language": "en", "name": "HX0123…"}], "parameters": ["name", "date"]}`.
 */
export const TemplateWhatsapp = Type.Object(
  {
    /**
     * The provider's template per language, the first the default: `name` is a Twilio Content SID (`HX…`) or a
     * Content API friendly name (a WhatsApp template name for other providers).
     */
    templates: Type.Array(
      Type.Object(
        {
          language: Type.String({ minLength: 1, maxLength: 35 }),
          name: Type.String({ minLength: 1, maxLength: 512 }),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 100 },
    ),
    /** The template's ((placeholders)) whose values fill the WhatsApp template's {{1}}, {{2}}, ... in order. */
    parameters: Type.Array(Type.String({ minLength: 1, maxLength: 255 }), { maxItems: 100 }),
  },
  { additionalProperties: false },
);
export type TemplateWhatsapp = Static<typeof TemplateWhatsapp>;

const templateFields = {
  name: Type.String({ minLength: 1, maxLength: 255 }),
  type: TemplateType,
  /** Email only (null for SMS); may hold ((placeholders)). */
  subject: Nullable(Type.String()),
  body: Type.String(),
  /** Starts at 1; every change adds one. */
  version: Type.Integer({ minimum: 1 }),
  /** The ((placeholders)) of the subject and body, each once, in order of appearance. */
  placeholders: Type.Array(Type.String()),
  /** SMS: the body's encoding and segments with the placeholders as written; null/0 for email. */
  ...smsFields,
  /** Its WhatsApp template, or null (absent in events of content services before it had one). */
  whatsapp: Type.Optional(Nullable(TemplateWhatsapp)),
};

/** A GOV.UK Notify-style template with `((placeholder))` personalisation, versioned on every change. */
export const Template = Type.Object({
  id: Id,
  ...templateFields,
  ...timestampFields,
});
export type Template = Static<typeof Template>;

/** One version of a template as it was saved. */
export const TemplateVersion = Type.Object({
  template: Id,
  ...templateFields,
  created_at: IsoDateTime,
});
export type TemplateVersion = Static<typeof TemplateVersion>;

/** A template rendered with personalisation. */
export const TemplatePreview = Type.Object({
  id: Id,
  version: Type.Integer({ minimum: 1 }),
  type: TemplateType,
  subject: Nullable(Type.String()),
  body: Type.String(),
  /** SMS: of the rendered body; null/0 for email. */
  ...smsFields,
});
export type TemplatePreview = Static<typeof TemplatePreview>;

export const ContentDeleted = Type.Object({ id: Id });
export type ContentDeleted = Static<typeof ContentDeleted>;

export const MessageDeleted = Type.Object({
  id: Id,
  messageset: Id,
  sequence_number: Type.Integer({ minimum: 1 }),
  lang: Type.String(),
});
export type MessageDeleted = Static<typeof MessageDeleted>;
