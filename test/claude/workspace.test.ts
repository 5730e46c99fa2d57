import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareWorkspace, WorkspaceError, type WorkspaceRequest } from '../../src/claude/workspace.js';
import type { WorkspaceSpec } from '../../src/domain/types.js';

/**
 * prepareWorkspace with real git and repositories made by the test: a clone on the first run, a
 * fetch on the next, refs, depth, failures with git's message (secrets redacted), cancel and
 * timeout, and nothing a run could plant in its folder that the service's git would obey.
 */

let root: string;
let origin: string;
let work: string;
let seq = 0;

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@t',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@t',
    },
  }).trim();
}

function commit(file: string, text: string, branch = 'main'): string {
  if (git(work, 'symbolic-ref', '--short', 'HEAD') !== branch) git(work, 'checkout', '-q', branch);
  fs.writeFileSync(path.join(work, file), text);
  git(work, 'add', file);
  git(work, 'commit', '-q', '-m', `${file}: ${text}`);
  git(work, 'push', '-q', 'origin', branch);
  return git(work, 'rev-parse', 'HEAD');
}

beforeAll(() => {
  root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'workspace-git-')));
  origin = path.join(root, 'origin.git');
  work = path.join(root, 'work');
  git(root, 'init', '-q', '--bare', '--initial-branch=main', origin);
  git(root, 'clone', '-q', origin, work);
  git(work, 'checkout', '-q', '-b', 'main');
  commit('README.md', 'first');
  git(work, 'checkout', '-q', '-b', 'feature');
  commit('feature.txt', 'on the branch', 'feature');
  git(work, 'tag', 'v1');
  git(work, 'push', '-q', 'origin', 'v1');
});

afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

function request(workspace: WorkspaceSpec | null, secrets: Record<string, string> = {}, signal = new AbortController().signal): WorkspaceRequest {
  const cwd = path.join(root, `agent-${++seq}`);
  fs.mkdirSync(cwd);
  return { workspace, cwd, secrets, signal };
}

async function failure(promise: Promise<unknown>): Promise<WorkspaceError> {
  const error: unknown = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(error instanceof WorkspaceError)) throw new Error(`expected a WorkspaceError, got ${String(error)}`);
  return error;
}

describe('prepareWorkspace', () => {
  it('no workspace: the agent’s own folder, writable', async () => {
    const r = request(null);
    expect(await prepareWorkspace(r)).toEqual({ cwd: r.cwd, readOnly: false });
  });

  it('hostPath: that folder, by its real path, read-only as asked; a missing one fails', async () => {
    const folder = path.join(root, 'host');
    fs.mkdirSync(folder);
    fs.symlinkSync(folder, path.join(root, 'host-link'));
    expect(await prepareWorkspace(request({ hostPath: path.join(root, 'host-link'), readOnly: true }))).toEqual({ cwd: folder, readOnly: true });
    expect(await prepareWorkspace(request({ hostPath: folder, readOnly: false }))).toEqual({ cwd: folder, readOnly: false });
    expect((await failure(prepareWorkspace(request({ hostPath: path.join(root, 'nope'), readOnly: true })))).message).toContain('does not exist');
  });

  it('git: clones the default branch on the first run, fetches a new commit on the next, keeps untracked files', async () => {
    const r = request({ git: { url: `file://${origin}` } });
    fs.writeFileSync(path.join(r.cwd, 'notes.txt'), 'the agent’s own notes');
    expect(await prepareWorkspace(r)).toEqual({ cwd: r.cwd, readOnly: false });
    expect(fs.readFileSync(path.join(r.cwd, 'README.md'), 'utf8')).toBe('first');
    expect(fs.existsSync(path.join(r.cwd, 'feature.txt'))).toBe(false);

    commit('NEW.md', 'second');
    // A run changed a tracked file meanwhile: the next run starts from the ref again.
    fs.writeFileSync(path.join(r.cwd, 'README.md'), 'edited by the run');
    await prepareWorkspace(r);
    expect(fs.readFileSync(path.join(r.cwd, 'NEW.md'), 'utf8')).toBe('second');
    expect(fs.readFileSync(path.join(r.cwd, 'README.md'), 'utf8')).toBe('first');
    expect(fs.readFileSync(path.join(r.cwd, 'notes.txt'), 'utf8')).toBe('the agent’s own notes');
  });

  it('keeps the git directory outside the agent’s folder, so a run cannot plant hooks or config in it', async () => {
    const r = request({ git: { url: origin } });
    await prepareWorkspace(r);
    expect(fs.existsSync(path.join(r.cwd, '.git'))).toBe(false);
    expect(fs.existsSync(path.join(`${r.cwd}.git`, 'HEAD'))).toBe(true);
    // What a run could write: a .git of its own with a hook and a config that runs a command.
    const marker = path.join(root, `pwned-${seq}`);
    fs.mkdirSync(path.join(r.cwd, '.git/hooks'), { recursive: true });
    fs.writeFileSync(path.join(r.cwd, '.git/hooks/post-checkout'), `#!/bin/sh\ntouch ${marker}\n`, { mode: 0o755 });
    fs.writeFileSync(path.join(r.cwd, '.git/config'), `[core]\n\tfsmonitor = touch ${marker}\n`);
    fs.writeFileSync(path.join(r.cwd, '.gitattributes'), '* filter=evil\n');
    commit('again.md', 'third');
    await prepareWorkspace(r);
    expect(fs.existsSync(path.join(r.cwd, 'again.md'))).toBe(true);
    expect(fs.existsSync(marker)).toBe(false);
  });

  it('checks out a branch, a tag or a commit, shallow when asked', async () => {
    const branch = request({ git: { url: origin, ref: 'feature', depth: 1 } });
    await prepareWorkspace(branch);
    expect(fs.readFileSync(path.join(branch.cwd, 'feature.txt'), 'utf8')).toBe('on the branch');
    expect(git(branch.cwd, '--git-dir', `${branch.cwd}.git`, 'rev-list', '--count', 'HEAD')).toBe('1');

    const tag = request({ git: { url: origin, ref: 'v1' } });
    await prepareWorkspace(tag);
    expect(fs.existsSync(path.join(tag.cwd, 'feature.txt'))).toBe(true);

    const first = git(work, 'rev-list', '--max-parents=0', 'main');
    const sha = request({ git: { url: origin, ref: first } });
    await prepareWorkspace(sha);
    expect(fs.readdirSync(sha.cwd)).toEqual(['README.md']);

    // Dropping the depth later fetches the whole history.
    await prepareWorkspace({ ...branch, workspace: { git: { url: origin, ref: 'feature' } } });
    expect(Number(git(branch.cwd, '--git-dir', `${branch.cwd}.git`, 'rev-list', '--count', 'HEAD'))).toBeGreaterThan(1);
  });

  it('a repository that does not exist, or a ref it lacks, fails with git’s message', async () => {
    const missing = await failure(prepareWorkspace(request({ git: { url: path.join(root, 'missing.git') } })));
    expect(missing.message).toContain('Preparing the git workspace failed (git fetch)');
    expect(missing.message).toContain('does not appear to be a git repository');
    const ref = await failure(prepareWorkspace(request({ git: { url: origin, ref: 'no-such-branch' } })));
    expect(ref.message).toContain("couldn't find remote ref no-such-branch");
  });

  it('a secret in git’s message is replaced by its name', async () => {
    const error = await failure(prepareWorkspace(request({ git: { url: path.join(root, 'repo-tok3n-value.git') } }, { TOKEN: 'tok3n-value' })));
    expect(error.message).toContain('repo-[secret:TOKEN].git');
    expect(error.message).not.toContain('tok3n-value');
  });

  it('refuses protocols a workspace may not use, even if a stored URL had one', async () => {
    const ext = await failure(prepareWorkspace(request({ git: { url: `ext::sh -c touch% ${path.join(root, 'ext-ran')}` } })));
    expect(ext.message).toMatch(/transport 'ext' not allowed|unsupported/);
    expect(fs.existsSync(path.join(root, 'ext-ran'))).toBe(false);
  });

  it('a cancelled run stops git', async () => {
    const controller = new AbortController();
    controller.abort();
    expect((await failure(prepareWorkspace(request({ git: { url: origin } }, {}, controller.signal)))).message).toContain('cancelled');
  });

  describe('over http', () => {
    let server: http.Server;
    let base: string;
    const seen: { url: string; authorization: string | undefined }[] = [];
    let hang = false;

    beforeAll(async () => {
      // git's "dumb" HTTP protocol: the bare repository's files, served as they are.
      git(origin, 'update-server-info');
      server = http.createServer((req, res) => {
        seen.push({ url: req.url ?? '', authorization: req.headers.authorization });
        if (hang) return;
        if (req.headers.authorization !== `Basic ${Buffer.from('x-access-token:s3cr3t-t0ken').toString('base64')}`) {
          res.writeHead(401, { 'www-authenticate': 'Basic realm="test"' }).end();
          return;
        }
        const file = path.join(origin, decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/').replace(/^\/repo\.git/, ''));
        if (!file.startsWith(origin) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
          res.writeHead(404).end();
          return;
        }
        res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(fs.readFileSync(file));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const address = server.address();
      base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    });

    afterAll(async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    it('hands git the credential of the URL as a header, never in the URL it requests', async () => {
      seen.length = 0;
      const r = request({ git: { url: `http://x-access-token:s3cr3t-t0ken@${base.slice('http://'.length)}/repo.git`, ref: 'main' } });
      await prepareWorkspace(r);
      expect(fs.readFileSync(path.join(r.cwd, 'README.md'), 'utf8')).toBe('first');
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.every((s) => s.authorization?.startsWith('Basic ') && !s.url.includes('s3cr3t'))).toBe(true);
    });

    it('a refused credential fails with git’s message, the secret redacted', async () => {
      const r = request(
        { git: { url: `http://x-access-token:wrong-t0ken-value@${base.slice('http://'.length)}/repo.git` } },
        { GH_TOKEN: 'wrong-t0ken-value' },
      );
      const error = await failure(prepareWorkspace(r));
      expect(error.message).toMatch(/Authentication failed|401|could not read Username/);
      expect(error.message).not.toContain('wrong-t0ken-value');
    });

    it('a fetch that takes too long is stopped', async () => {
      hang = true;
      try {
        const r = request({ git: { url: `${base}/repo.git` } });
        const error = await failure(prepareWorkspace(r, { timeoutMs: 1500 }));
        expect(error.message).toContain('took longer than 1.5 s');
      } finally {
        hang = false;
      }
    });
  });
});
