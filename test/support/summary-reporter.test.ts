import { execFile } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The closing `tests:` line is what CI and people read, so it must never say `0 failed` for a
 * run that failed. Each case runs vitest on one fixture file (summary-reporter-fixtures/) with
 * only the summary reporter, in a process of its own, and reads the line and the exit code.
 */
const ROOT = path.resolve(import.meta.dirname, '../..');
const VITEST = path.join(ROOT, 'node_modules/vitest/vitest.mjs');
const CONFIG = path.join(import.meta.dirname, 'summary-reporter-fixtures/vitest.config.ts');

function runFixture(fixture: string): Promise<{ code: number; summary: string | undefined; output: string }> {
  // Without the variables of the vitest running this test, the child is a run of its own.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('VITEST')));
  return new Promise((resolve) => {
    execFile(process.execPath, [VITEST, 'run', '--config', CONFIG], { cwd: ROOT, env: { ...env, FIXTURE: fixture } }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      const summary = stdout.split('\n').find((line) => line.startsWith('tests: '));
      resolve({ code, summary, output: stdout + stderr });
    });
  });
}

describe('the summary line', { timeout: 60_000 }, () => {
  it('counts passed and skipped tests of a run that passed', async () => {
    const run = await runFixture('passes.fixture.ts');
    expect(run.code, run.output).toBe(0);
    expect(run.summary).toBe('tests: 1 passed, 0 failed, 1 skipped');
  });

  it('counts a beforeAll that threw as a failure (its tests never ran: skipped)', async () => {
    const run = await runFixture('before-all-throws.fixture.ts');
    expect(run.code, run.output).toBe(1);
    expect(run.summary).toBe('tests: 0 passed, 1 failed, 2 skipped');
  });

  it('counts an afterAll that threw as a failure beside the test that passed', async () => {
    const run = await runFixture('after-all-throws.fixture.ts');
    expect(run.code, run.output).toBe(1);
    expect(run.summary).toBe('tests: 1 passed, 1 failed, 0 skipped');
  });

  it('counts a file that failed to load as a failure', async () => {
    const run = await runFixture('load-fails.fixture.ts');
    expect(run.code, run.output).toBe(1);
    expect(run.summary).toBe('tests: 0 passed, 1 failed, 0 skipped');
  });
});
