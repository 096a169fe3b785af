// What a simulator is told to answer next: the outcomes scripted per number, and the failures of its next requests.

/**
 * A simulator's script: `script(to, outcomes)` appends outcomes for the next sends to `to` (kept under `key(to)`,
 * each taken once, in order, from `scripts`); `failNext(failure, times)` queues a failure for the next `times`
 * requests (each takes one from the front of `failures`).
 */
export function scripted<O, F = never>(key: (to: string) => string = (to) => to) {
  const scripts = new Map<string, O[]>();
  const failures: F[] = [];
  return {
    scripts,
    failures,
    script(to: string, outcomes: O[]): void {
      scripts.set(key(to), [...(scripts.get(key(to)) ?? []), ...outcomes]);
    },
    failNext(failure: F, times = 1): void {
      for (let i = 0; i < times; i++) {
        failures.push(failure);
      }
    },
  };
}
