/** The content service's API errors: services throw them, the shared error handler renders them. */
import { ApiError, badRequest, conflict, type FieldProblem, notFound } from "@tidings/service-kit";

export const scheduleNotFound = (id: number) =>
  notFound("CONTENT_SCHEDULE_NOT_FOUND", `Schedule ${id} not found`);
export const messageSetNotFound = (id: number) =>
  notFound("CONTENT_MESSAGESET_NOT_FOUND", `Message set ${id} not found`);
export const messageNotFound = (id: number) =>
  notFound("CONTENT_MESSAGE_NOT_FOUND", `Message ${id} not found`);
export const templateNotFound = (id: number) =>
  notFound("CONTENT_TEMPLATE_NOT_FOUND", `Template ${id} not found`);
export const templateVersionNotFound = (id: number, version: number) =>
  notFound("CONTENT_TEMPLATE_VERSION_NOT_FOUND", `Template ${id} has no version ${version}`);
export const binaryContentNotFound = (id: number) =>
  notFound("CONTENT_BINARY_NOT_FOUND", `Binary content ${id} not found`);
export const mediaNotFound = () => new ApiError(404, "CONTENT_MEDIA_NOT_FOUND", "No such file");

/** A body field refers to a row that does not exist (a foreign key the write violated). */
export const referenceNotFound = (field: string, entity: string, id: number | null | undefined) =>
  badRequest("CONTENT_REFERENCE_NOT_FOUND", `${field}: ${entity} ${id} does not exist`, [
    { field: `body.${field}`, message: `no such ${entity}` },
  ]);

export const invalidCron = (details: FieldProblem[]) =>
  badRequest(
    "CONTENT_SCHEDULE_INVALID_CRON",
    details.map((d) => `${d.field.slice("body.".length)}: ${d.message}`).join("; "),
    details,
  );

export const invalidTimezone = (timezone: string) =>
  badRequest("CONTENT_SCHEDULE_INVALID_TIMEZONE", `timezone: "${timezone}" is not an IANA time zone`, [
    { field: "body.timezone", message: "is not an IANA time zone (e.g. Africa/Johannesburg)" },
  ]);

export const scheduleInUse = (id: number, messagesets: number[]) =>
  conflict(
    "CONTENT_SCHEDULE_IN_USE",
    `Schedule ${id} is the default_schedule of message set(s) ${messagesets.join(", ")}; change them first`,
    { messagesets },
  );

export const runsWindowReversed = () =>
  badRequest("CONTENT_SCHEDULE_RUNS_WINDOW", "from must not be after to", [
    { field: "querystring.from", message: "must not be after to" },
  ]);

export const runsWindowTooLong = () =>
  badRequest("CONTENT_SCHEDULE_RUNS_WINDOW", "the window from..to is at most 367 days", [
    { field: "querystring.to", message: "at most 367 days after from" },
  ]);

export const shortNameTaken = (shortName: string | undefined) =>
  badRequest(
    "CONTENT_MESSAGESET_SHORT_NAME_TAKEN",
    `short_name: a message set named "${shortName}" already exists`,
    [{ field: "body.short_name", message: "must be unique" }],
  );

export const setNotWhatsAppReady = (messages: number[]) =>
  badRequest(
    "CONTENT_MESSAGESET_WHATSAPP_FORMAT",
    `channel: messages ${messages.join(", ")} have a newline, a tab or four consecutive spaces, which WhatsApp sets cannot send`,
    [{ field: "body.channel", message: `messages ${messages.join(", ")} are not valid for WhatsApp` }],
  );

export const messageEmpty = () =>
  badRequest("CONTENT_MESSAGE_EMPTY", "Messages must have text or file attached", [
    { field: "body.text_content", message: "text_content or binary_content is required" },
    { field: "body.binary_content", message: "text_content or binary_content is required" },
  ]);

export const specialCharacters = (replacements: string) =>
  badRequest(
    "CONTENT_MESSAGE_SPECIAL_CHARACTERS",
    `text_content has special characters which can be replaced: ${replacements}`,
    [{ field: "body.text_content", message: `replace ${replacements}` }],
  );

export const notWhatsAppFormat = (channel: string | null, what: string) =>
  badRequest(
    "CONTENT_MESSAGE_WHATSAPP_FORMAT",
    `text_content: messages of a WhatsApp set (channel "${channel}") cannot contain ${what}`,
    [{ field: "body.text_content", message: `no newline, tab or four consecutive spaces (found ${what})` }],
  );

export const messageDuplicate = () =>
  badRequest(
    "CONTENT_MESSAGE_DUPLICATE",
    "The message set already has a message with this sequence_number and lang",
    ["messageset", "sequence_number", "lang"].map((f) => ({
      field: `body.${f}`,
      message: "not unique together",
    })),
  );

export const subjectRequired = () =>
  badRequest("CONTENT_TEMPLATE_SUBJECT_REQUIRED", "subject: an email template needs a subject", [
    { field: "body.subject", message: "is required for email templates" },
  ]);

export const subjectNotAllowed = () =>
  badRequest("CONTENT_TEMPLATE_SUBJECT_NOT_ALLOWED", "subject: an SMS template has no subject", [
    { field: "body.subject", message: "must be null or absent for SMS templates" },
  ]);

export const missingPersonalisation = (missing: string[]) =>
  badRequest(
    "CONTENT_TEMPLATE_MISSING_PERSONALISATION",
    `Missing personalisation: ${missing.join(", ")}`,
    missing.map((name) => ({ field: `body.personalisation.${name}`, message: "is required" })),
  );

export const binaryTooLarge = (maxBytes: number) =>
  new ApiError(413, "CONTENT_BINARY_TOO_LARGE", `content: the file is larger than ${maxBytes} bytes`, [
    { field: "body.content", message: `at most ${maxBytes} bytes` },
  ]);

export const binaryTypeNotAllowed = (mimeType: string, allowed: string[]) =>
  badRequest(
    "CONTENT_BINARY_TYPE_NOT_ALLOWED",
    `content: files of type ${mimeType} are not allowed (allowed: ${allowed.join(", ")})`,
    [{ field: "body.content", message: `type must be one of ${allowed.join(", ")}` }],
  );

export const binaryEmpty = () =>
  badRequest("CONTENT_BINARY_EMPTY", "content: the file is empty", [
    { field: "body.content", message: "is empty" },
  ]);

export const binaryInUse = (id: number, messages: number[]) =>
  conflict(
    "CONTENT_BINARY_IN_USE",
    `Binary content ${id} is used by message(s) ${messages.join(", ")}; change them first`,
    { messages },
  );

export const notMultipart = () =>
  badRequest("CONTENT_BINARY_NOT_MULTIPART", "Upload the file as multipart/form-data, field content", [
    { field: "body.content", message: "send multipart/form-data" },
  ]);

export const binaryMissing = () =>
  badRequest("CONTENT_BINARY_MISSING", "content: no file in the multipart field content", [
    { field: "body.content", message: "is required (a file)" },
  ]);

/** A template's `whatsapp` names parameters the template lacks, repeats a language, or is on an email template. */
export const invalidWhatsapp = (details: FieldProblem[]) =>
  badRequest(
    "CONTENT_TEMPLATE_INVALID_WHATSAPP",
    `whatsapp: ${details.map((d) => `${d.field.slice("body.whatsapp".length).replace(/^\./, "") || "whatsapp"} ${d.message}`).join("; ")}`,
    details,
  );
