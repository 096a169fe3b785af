import { expect } from "vitest";

type ErrorBody = { error: { code: string } };

/** An HTTP answer: fastify's inject response, or one already read into its status and parsed body. */
type Answer = { statusCode: number; json: () => ErrorBody } | { status: number; body: ErrorBody };

/** Asserts an HTTP answer is the shared JSON error with this status code and error code. */
export function expectError(res: Answer, status: number, code: string): void {
  const [actual, body] = "statusCode" in res ? [res.statusCode, res.json()] : [res.status, res.body];
  expect(actual).toBe(status);
  expect(body.error.code).toBe(code);
}
