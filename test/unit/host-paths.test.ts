import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/domain/errors.js';
import { checkHostPath, type HostPathPolicy } from '../../src/host-paths.js';

/** Host folders a workspace may use: CRON_AGENTS_ALLOWED_HOST_PATHS, on the real path. */

let root: string;
let policy: HostPathPolicy;

beforeAll(() => {
  root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'host-paths-')));
  for (const dir of ['allowed/project/sub', 'outside/secret', 'allowed/data', 'allowed-not']) fs.mkdirSync(path.join(root, dir), { recursive: true });
  fs.writeFileSync(path.join(root, 'allowed/file.txt'), 'x');
  // A link inside the allowed folder that leads out of it.
  fs.symlinkSync(path.join(root, 'outside'), path.join(root, 'allowed/escape'));
  // A link outside that leads in.
  fs.symlinkSync(path.join(root, 'allowed/project'), path.join(root, 'outside/into-allowed'));
  policy = { allowedHostPaths: [path.join(root, 'allowed')], dataDir: path.join(root, 'allowed/data') };
});

afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

describe('checkHostPath', () => {
  it('accepts an allowed folder and the folders under it, returning the real path', async () => {
    await expect(checkHostPath(path.join(root, 'allowed/project'), 'workspace.hostPath', policy)).resolves.toBe(path.join(root, 'allowed/project'));
    await expect(checkHostPath(path.join(root, 'allowed/project/sub'), 'f', policy)).resolves.toBe(path.join(root, 'allowed/project/sub'));
    await expect(checkHostPath(path.join(root, 'outside/into-allowed'), 'f', policy)).resolves.toBe(path.join(root, 'allowed/project'));
  });

  it.each([
    ['a folder outside', 'outside/secret', 'is not under CRON_AGENTS_ALLOWED_HOST_PATHS'],
    ['a .. escape', 'allowed/project/../../outside/secret', 'is not under CRON_AGENTS_ALLOWED_HOST_PATHS'],
    ['a symlink out of the allowed folder', 'allowed/escape/secret', 'is not under CRON_AGENTS_ALLOWED_HOST_PATHS'],
    ['a sibling with the same prefix', 'allowed-not', 'is not under CRON_AGENTS_ALLOWED_HOST_PATHS'],
    ['a missing folder', 'allowed/missing', 'does not exist'],
    ['a file', 'allowed/file.txt', 'is not a folder'],
    ['the data dir', 'allowed/data', "the service's data dir"],
    ['a folder holding the data dir', 'allowed', "the service's data dir"],
  ])('refuses %s, naming the field', async (_what, folder, message) => {
    const checked = checkHostPath(path.join(root, folder), 'workspace.hostPath', policy);
    await expect(checked).rejects.toThrow(ValidationError);
    await expect(checkHostPath(path.join(root, folder), 'workspace.hostPath', policy)).rejects.toThrow(message);
    await checkHostPath(path.join(root, folder), 'workspace.hostPath', policy).catch((error: unknown) => {
      expect(error instanceof ValidationError && error.details[0]?.field).toBe('workspace.hostPath');
    });
  });

  it('refuses every folder when the operator has listed none', async () => {
    await expect(checkHostPath(path.join(root, 'allowed/project'), 'workspace.hostPath', { allowedHostPaths: [], dataDir: null })).rejects.toThrow(
      'the operator has not set CRON_AGENTS_ALLOWED_HOST_PATHS',
    );
  });

  it('a listed folder that is a symlink counts by its real path', async () => {
    const link = path.join(root, 'link-to-allowed');
    fs.symlinkSync(path.join(root, 'allowed'), link);
    await expect(checkHostPath(path.join(root, 'allowed/project'), 'f', { allowedHostPaths: [link], dataDir: null })).resolves.toBe(
      path.join(root, 'allowed/project'),
    );
  });
});
