import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/** Runs one fixture file (FIXTURE) with only the summary reporter, for summary-reporter.test.ts. */
export default defineConfig({
  test: {
    root: fileURLToPath(new URL('.', import.meta.url)),
    include: [process.env.FIXTURE ?? 'none'],
    reporters: [fileURLToPath(new URL('../summary-reporter.ts', import.meta.url))],
  },
});
