import fs from 'node:fs/promises';
import path from 'node:path';
import { ValidationError } from './domain/errors.js';

/**
 * Which folders of the host an agent's workspace may use (a `hostPath`, or a local repository a
 * git workspace is fetched from). Checked on the real path (symlinks and `..` resolved) when an
 * agent is written and again before each run (the folder, a link in it, or the operator's list
 * may have changed since).
 */
export interface HostPathPolicy {
  /** Absolute folders, from CRON_AGENTS_ALLOWED_HOST_PATHS; empty: no host folder at all. */
  allowedHostPaths: readonly string[];
  /** Never usable, nor any folder that holds it: the database and every agent's files live there. */
  dataDir: string | null;
}

export const NO_HOST_PATHS: HostPathPolicy = Object.freeze({ allowedHostPaths: [], dataDir: null });

function within(child: string, parent: string): boolean {
  return child === parent || child.startsWith(parent.endsWith(path.sep) ? parent : parent + path.sep);
}

async function realPathOrNull(folder: string): Promise<string | null> {
  try {
    return await fs.realpath(folder);
  } catch {
    return null;
  }
}

/**
 * The real path of `folder` when the policy allows it; else a ValidationError naming `field`:
 * no list set, a folder that does not exist or is not a directory, outside every allowed folder,
 * or the data dir (or a folder holding it).
 */
export async function checkHostPath(folder: string, field: string, policy: HostPathPolicy): Promise<string> {
  if (policy.allowedHostPaths.length === 0) {
    throw ValidationError.field(field, 'host folders are not allowed here: the operator has not set CRON_AGENTS_ALLOWED_HOST_PATHS');
  }
  const real = await realPathOrNull(folder);
  if (real === null || !(await fs.stat(real)).isDirectory()) throw ValidationError.field(field, `${folder} does not exist or is not a folder`);
  const roots = (await Promise.all(policy.allowedHostPaths.map(realPathOrNull))).filter((root) => root !== null);
  if (!roots.some((root) => within(real, root))) {
    throw ValidationError.field(field, `${folder} is not under CRON_AGENTS_ALLOWED_HOST_PATHS (${policy.allowedHostPaths.join(', ')})`);
  }
  const dataDir = policy.dataDir === null ? null : await realPathOrNull(policy.dataDir);
  if (dataDir !== null && (within(real, dataDir) || within(dataDir, real))) {
    throw ValidationError.field(field, `${folder} is, or holds, the service's data dir`);
  }
  return real;
}
