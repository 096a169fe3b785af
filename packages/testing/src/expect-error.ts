import { expect } from "vitest";

/** Asserts an HTTP response is the shared JSON error with this status code and error code. */
export function expectError(
  res: { statusCode: number; json: () => { error: { code: string } } },
  status: number,
  code: string,
): void {
  expect(res.statusCode).toBe(status);
  expect(res.json().error.code).toBe(code);
}
