import type { Reporter, TestModule } from "vitest/node";

/** Ends the run with the plain line "N passed, N failed, N skipped", for tools that read closing lines. */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const counts = { passed: 0, failed: 0, skipped: 0 };
    for (const module of testModules) {
      if (module.state() === "failed" && [...module.children.allTests()].length === 0) {
        counts.failed++; // a file that failed before any test ran
      }
      for (const test of module.children.allTests()) {
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
