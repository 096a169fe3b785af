/** An error with an HTTP status, an UPPER_SNAKE code and optional details, rendered in the one error shape. */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** 429 with a `Retry-After` header: the client may try again after that many seconds. */
export class RetryLaterError extends ApiError {
  constructor(
    code: string,
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(429, code, message);
    this.name = "RetryLaterError";
  }
}

/** One field's problem, as an error's `details` list them (VALIDATION_FAILED's shape). */
export interface FieldProblem {
  field: string;
  message: string;
}

export const badRequest = (code: string, message: string, details?: unknown) =>
  new ApiError(400, code, message, details);
export const notFound = (code: string, message: string) => new ApiError(404, code, message);

/** 413 BODY_TOO_LARGE, as fastify's own body limit answers (for a route that reads its body itself). */
export const bodyTooLarge = () => new ApiError(413, "BODY_TOO_LARGE", "Request body is too large");

export const conflict = (code: string, message: string, details?: unknown) =>
  new ApiError(409, code, message, details);

/** The row a lookup found; when it found none, the error `missing` makes (e.g. a 404) is thrown. */
export function found<T>(row: T | null | undefined, missing: () => Error): T {
  if (row == null) {
    throw missing();
  }
  return row;
}

/** A database unique-constraint violation (Prisma P2002, Postgres 23505). */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as {
    code?: string;
    cause?: { code?: string };
    meta?: { driverAdapterError?: { cause?: { originalCode?: string } } };
  };
  return (
    e?.code === "P2002" || e?.code === "23505" || e?.meta?.driverAdapterError?.cause?.originalCode === "23505"
  );
}

/** A Prisma "record to update or delete does not exist" error. */
export const isRecordNotFound = (err: unknown): boolean => (err as { code?: string })?.code === "P2025";
