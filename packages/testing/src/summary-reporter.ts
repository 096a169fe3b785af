import type { Reporter, TestModule } from "vitest/node";

/** How many of the slowest test files the summary lists. */
const SLOWEST = 10;

/**
 * Ends the run with the slowest test files (seconds each spent importing and running, with its project), then the
 * plain line "N passed, N failed, N skipped", for tools that read closing lines.
 */
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
    process.stdout.write(slowest(testModules));
    process.stdout.write(`\n${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`);
  }
}

function slowest(testModules: ReadonlyArray<TestModule>): string {
  const timed = testModules
    .map((module) => {
      const d = module.diagnostic();
      return {
        seconds: (d.prepareDuration + d.collectDuration + d.setupDuration + d.duration) / 1000,
        name: `${module.project.name} ${module.relativeModuleId}`,
      };
    })
    .sort((a, b) => b.seconds - a.seconds)
    .slice(0, SLOWEST);
  if (timed.length < 2) {
    return "";
  }
  const lines = timed.map((t) => `${t.seconds.toFixed(1).padStart(7)} s  ${t.name}`);
  return `\nThe ${timed.length} slowest test files (import and tests):\n${lines.join("\n")}\n`;
}
