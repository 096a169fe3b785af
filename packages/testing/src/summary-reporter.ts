import type { Reporter, TestModule } from "vitest/node";

/** Ends the run with the plain line "N passed, N failed, N skipped", for tools that read closing lines. */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const counts = { passed: 0, failed: 0, skipped: 0 };
    for (const module of testModules) {
      const tests = [...module.children.allTests()];
      if (module.state() === "failed" && !tests.some((test) => test.result().state === "failed")) {
        counts.failed++; // a file that failed outside its tests (its set-up, a fixture, an import): they were skipped
      }
      for (const test of tests) {
        const state = test.result().state;
        if (state === "passed" || state === "failed") {
          counts[state]++;
        } else {
          counts.skipped++;
        }
      }
    }
    process.stdout.write(`\n${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`);
  }
}
