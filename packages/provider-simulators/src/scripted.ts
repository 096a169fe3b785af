// What a simulator is told to answer next: the outcomes scripted per number, and the failures of its next requests.

/** Appends `outcomes` to those `scripts` holds for `to` (each taken once, in order, by the next sends to it). */
export function appendScript<O>(scripts: Map<string, O[]>, to: string, outcomes: O[]): void {
  scripts.set(to, [...(scripts.get(to) ?? []), ...outcomes]);
}

/** Queues `failure` for the next `times` requests (each takes one from the front of `failures`). */
export function queueFailure<F>(failures: F[], failure: F, times: number): void {
  for (let i = 0; i < times; i++) {
    failures.push(failure);
  }
}
