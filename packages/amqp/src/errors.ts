/** A failure that will fail again however often it is retried: the message goes to the dead-letter queue. */
export class NonRetryableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "NonRetryableError";
  }
}
