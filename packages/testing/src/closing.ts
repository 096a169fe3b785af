type Fixture<T> = (context: object, use: (value: T) => Promise<void>) => Promise<void>;

/**
 * A `test.extend` fixture of what `start` resolves to, ended after its last use by `stop` (its `close()` if none is
 * given); give it `{ scope: "file" }` for the file's tests to share one: `sim: [closing(startSim), { scope: "file" }]`.
 */
export function closing<T extends { close(): Promise<unknown> }>(start: () => Promise<T>): Fixture<T>;
export function closing<T>(start: () => Promise<T>, stop: (value: T) => Promise<unknown>): Fixture<T>;
export function closing<T>(
  start: () => Promise<T>,
  stop: (value: T) => Promise<unknown> = (value) => (value as { close(): Promise<unknown> }).close(),
): Fixture<T> {
  // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from its first parameter.
  return async ({}, use) => {
    const value = await start();
    try {
      await use(value);
    } finally {
      await stop(value);
    }
  };
}
