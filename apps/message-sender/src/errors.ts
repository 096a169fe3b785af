import { ApiError } from "@tidings/service-kit";

/**
 * message-sender's error codes and their HTTP status. The rule: services throw these (through `senderError`);
 * routes build no error of their own. `VALIDATION_FAILED` is the platform's code for a bad request, used here for
 * the rules a schema can't say.
 */
export const ERROR_CODES = {
  VALIDATION_FAILED: 400,
  MESSAGE_SENDER_INVALID_ADDRESS: 400,
  MESSAGE_SENDER_UNKNOWN_CHANNEL: 400,
  MESSAGE_SENDER_UNKNOWN_TEMPLATE: 400,
  MESSAGE_SENDER_CONTENT_AND_TEMPLATE: 400,
  MESSAGE_SENDER_MISSING_PERSONALISATION: 400,
  MESSAGE_SENDER_INVALID_SENDING_WINDOW: 400,
  MESSAGE_SENDER_INVALID_CHANNEL_CONFIGURATION: 400,
  MESSAGE_SENDER_INVALID_FALLBACK: 400,
  MESSAGE_SENDER_SECRETS_REQUIRED: 400,
  MESSAGE_SENDER_UNKNOWN_MESSAGE: 400,
  MESSAGE_SENDER_INVALID_SIGNATURE: 403,
  MESSAGE_SENDER_RECIPIENT_NOT_ALLOWED: 403,
  MESSAGE_SENDER_NOT_OUTBOUND_OWNER: 403,
  OUTBOUND_NOT_FOUND: 404,
  MESSAGE_SENDER_BATCH_NOT_FOUND: 404,
  MESSAGE_SENDER_CHANNEL_NOT_FOUND: 404,
  MESSAGE_SENDER_INBOUND_NOT_FOUND: 404,
  MESSAGE_SENDER_FAILED_TASK_NOT_FOUND: 404,
  MESSAGE_SENDER_CHANNEL_EXISTS: 409,
  MESSAGE_SENDER_BATCH_EXISTS: 409,
  MESSAGE_SENDER_CHANNEL_BUILT_IN: 409,
  MESSAGE_SENDER_CHANNEL_IS_DEFAULT: 409,
  MESSAGE_SENDER_ARCHIVE_NOT_CONFIGURED: 409,
  MESSAGE_SENDER_SEND_IN_PROGRESS: 409,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** A field at fault, as the error's `details` name it (`body.to_addr`, `body.recipients[3].to_addr`). */
export interface FieldProblem {
  field: string;
  message: string;
}

/** An error of this service, with its code's status, rendered in the platform's one error shape. */
export const senderError = (code: ErrorCode, message: string, details?: readonly FieldProblem[]): ApiError =>
  new ApiError(ERROR_CODES[code], code, message, details);
