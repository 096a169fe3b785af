/** A failure that will fail again however often it is retried: the message goes to the dead-letter queue. */
export class NonRetryableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "NonRetryableError";
  }
}

/**
 * A failure whose retry must not come sooner than `delayMs` from now (something the handler started may still
 * finish in that time). It is retried like any other failure, but waits at least `delayMs`: in the first retry
 * level, from the attempt's own on, whose delay covers it.
 */
export class RetryNotBeforeError extends Error {
  constructor(
    message: string,
    readonly delayMs: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "RetryNotBeforeError";
  }
}
