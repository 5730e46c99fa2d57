import type { Reporter, SerializedError, TestModule } from 'vitest/node';

/** The counts of the closing line; `failed` is zero only when vitest reports nothing wrong. */
export interface SummaryCounts {
  passed: number;
  failed: number;
  skipped: number;
}

/**
 * Counts a run: each test by its state, plus one failure for each file or suite that failed on
 * its own (a file that did not load, a beforeAll or afterAll that threw) and one for each
 * unhandled error. A test whose beforeAll threw never ran, so vitest reports it skipped: without
 * the suite's own failure such a run would read `0 failed`.
 */
export function countRun(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError>): SummaryCounts {
  const counts: SummaryCounts = { passed: 0, failed: unhandledErrors.length, skipped: 0 };
  for (const module of testModules) {
    const failedBefore = counts.failed;
    for (const test of module.children.allTests()) {
      const state = test.result().state;
      if (state === 'passed') counts.passed++;
      else if (state === 'failed') counts.failed++;
      else counts.skipped++;
    }
    // errors() holds a suite's own errors (collection, beforeAll, afterAll), never its tests'.
    for (const suite of [module, ...module.children.allSuites()]) if (suite.errors().length > 0) counts.failed++;
    // Whatever made vitest fail a file, the file counts at least one failure.
    if (module.state() === 'failed' && counts.failed === failedBefore) counts.failed++;
  }
  return counts;
}

/**
 * Ends the output with one plain line, `tests: N passed, N failed, N skipped`, that any tool
 * reading test logs understands, beside vitest's own summary.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError>): void {
    const { passed, failed, skipped } = countRun(testModules, unhandledErrors);
    process.stdout.write(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
