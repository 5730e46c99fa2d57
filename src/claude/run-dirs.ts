import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { EnvDirs } from './environment.js';

/**
 * The folders of one run besides its workspace. Per agent, kept between runs, under
 * `<agentsDir>/<agentId>/`: `home` (HOME) and `claude-config` (CLAUDE_CONFIG_DIR, a sibling of
 * home and not inside it, so that nothing a tool may write to in HOME can change Claude Code's
 * settings). Per run: a fresh temp folder, removed when the run ends. It lives in the system's temp
 * dir, not in the data dir, because Claude Code puts unix sockets in it and a socket's path must
 * stay under ~100 bytes, which a deep data dir would exceed.
 */
export async function makeRunDirs(agentsDir: string, agentId: string): Promise<EnvDirs> {
  // Ids are UUIDs; anything else could name a path outside agentsDir.
  if (!/^[A-Za-z0-9_-]+$/.test(agentId)) throw new Error(`Invalid agent id for a folder name: ${agentId}`);
  const agentDir = path.join(agentsDir, agentId);
  const home = path.join(agentDir, 'home');
  const configDir = path.join(agentDir, 'claude-config');
  await fs.mkdir(home, { recursive: true, mode: 0o700 });
  await fs.mkdir(configDir, { recursive: true, mode: 0o700 });
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'cron-agents-run-'));
  return { home, configDir, tmp };
}

/** Removes a run's temp folder; best effort (a process that outlived the run may still hold it). */
export async function removeRunTmp(dirs: EnvDirs): Promise<void> {
  await fs.rm(dirs.tmp, { recursive: true, force: true, maxRetries: 2 }).catch(() => {});
}
