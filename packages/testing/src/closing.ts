import {
  createTestDatabase,
  createTestNamespace,
  type TestDatabase,
  type TestNamespace,
} from "./resources.ts";

type Fixture<T> = (context: object, use: (value: T) => Promise<void>) => Promise<void>;

const closeIt = (value: unknown) => (value as { close(): Promise<unknown> }).close();

/**
 * A fixture's last step: hands `value` to its `use`, then ends it by `stop` (its `close()` if none is given), also when
 * a test failed: `async ({ svc }, use) => closeAfter(await startSim(svc), use)`.
 */
export async function closeAfter<T>(
  value: T,
  use: (value: T) => Promise<void>,
  stop: (value: T) => Promise<unknown> = closeIt,
): Promise<void> {
  try {
    await use(value);
  } finally {
    await stop(value);
  }
}

/**
 * A `test.extend` fixture of what `start` resolves to, ended after its last use by `stop` (its `close()` if none is
 * given); give it `{ scope: "file" }` for the file's tests to share one: `sim: [closing(startSim), { scope: "file" }]`.
 */
export function closing<T extends { close(): Promise<unknown> }>(start: () => Promise<T>): Fixture<T>;
export function closing<T>(start: () => Promise<T>, stop: (value: T) => Promise<unknown>): Fixture<T>;
export function closing<T>(
  start: () => Promise<T>,
  stop: (value: T) => Promise<unknown> = closeIt,
): Fixture<T> {
  // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from its first parameter.
  return async ({}, use) => closeAfter(await start(), use, stop);
}

/** A test file's own database of `service` (a copy of its migrated template), dropped after the file's last test. */
export const testDatabase = (service: string): [Fixture<TestDatabase>, { scope: "file" }] => [
  closing(
    () => createTestDatabase(service),
    (database) => database.drop(),
  ),
  { scope: "file" },
];

/** A test file's own RabbitMQ namespace, its exchanges and queues deleted after the file's last test. */
export const testNamespace = (): [Fixture<TestNamespace>, { scope: "file" }] => [
  closing(
    async () => createTestNamespace(),
    (namespace) => namespace.cleanup(),
  ),
  { scope: "file" },
];
