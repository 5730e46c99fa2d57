import { ValidationError } from './errors.js';
import { checkNoSecretRef, checkSecretRefSyntax, urlProtocol } from './secret-ref-syntax.js';
import { resolveSecretRefs, type SecretValues } from './secret-refs.js';
import type { WorkspaceSpec } from './types.js';

/**
 * A workspace as a request carries it: one object for both kinds (the schema checks types and
 * sizes), made into a WorkspaceSpec by parseWorkspace, which names the field of any problem.
 */
export interface WorkspaceInput {
  git?: { url: string; ref?: string; depth?: number };
  hostPath?: string;
  readOnly?: boolean;
}

const REF_CHARS = /^[A-Za-z0-9._/+-]+$/;

/**
 * A branch, tag or commit as git's check-ref-format would take it, and never something git
 * could read as an option (`-x`), a forced refspec (`+a`) or a mapping (`a:b`).
 */
function checkRef(ref: string): void {
  const bad = !REF_CHARS.test(ref) || /^[-+./]/.test(ref) || /(\.\.|\/\/|\/\.|@\{)/.test(ref) || /(\.lock|\/|\.)$/.test(ref);
  if (bad) throw ValidationError.field('workspace.git.ref', 'must be a branch, tag or commit name (letters, digits and . _ / + -, as git allows them)');
}

/** The path of a repository on this machine (`file://` URL or absolute path); null for a remote one. */
export function localGitPath(url: string): string | null {
  if (url.startsWith('/')) return url;
  if (!url.startsWith('file://')) return null;
  try {
    return decodeURIComponent(new URL(url).pathname);
  } catch {
    return null;
  }
}

function checkGitUrl(url: string): void {
  const field = 'workspace.git.url';
  if (localGitPath(url) !== null) {
    checkNoSecretRef(url, field);
    return;
  }
  checkSecretRefSyntax(url, field);
  const protocol = urlProtocol(url) ?? '';
  // Not ssh: the service's own keys would answer for the agent. Not ext:: and other helpers: they run commands.
  if (!['https:', 'http:', 'git:'].includes(protocol) || /\s/.test(url)) {
    throw ValidationError.field(
      field,
      'must be an https://, http:// or git:// URL (or, under CRON_AGENTS_ALLOWED_HOST_PATHS, a file:// URL or an absolute path)',
    );
  }
}

/** An absolute path, written plainly: the real-path check (host-paths.ts) then has nothing to untangle. */
function checkHostPath(hostPath: string): void {
  const segments = hostPath.split('/');
  if (!hostPath.startsWith('/') || segments.includes('..') || segments.includes('.') || hostPath.includes('\0')) {
    throw ValidationError.field('workspace.hostPath', 'must be an absolute path without . or .. segments');
  }
  checkNoSecretRef(hostPath, 'workspace.hostPath');
}

/** Checks a workspace (either kind, never both) and returns it as a spec; null stays null. */
export function parseWorkspace(input: WorkspaceInput | null): WorkspaceSpec | null {
  if (input === null) return null;
  const { git, hostPath, readOnly } = input;
  if (git !== undefined && hostPath !== undefined) throw ValidationError.field('workspace', 'give either git or hostPath, not both');
  if (git !== undefined) {
    if (readOnly !== undefined) throw ValidationError.field('workspace.readOnly', 'is for a hostPath workspace only');
    checkGitUrl(git.url);
    if (git.ref !== undefined) checkRef(git.ref);
    return { git: { url: git.url, ...(git.ref !== undefined ? { ref: git.ref } : {}), ...(git.depth !== undefined ? { depth: git.depth } : {}) } };
  }
  if (hostPath === undefined) throw ValidationError.field('workspace', 'must have git or hostPath (or be null)');
  checkHostPath(hostPath);
  if (readOnly === undefined) throw ValidationError.field('workspace.readOnly', 'is required with hostPath');
  return { hostPath, readOnly };
}

/** The folder on this machine a workspace reads from: its hostPath, or a local repository's path. */
export function workspaceHostPath(spec: WorkspaceSpec | null): { path: string; field: string } | null {
  if (spec === null) return null;
  if ('hostPath' in spec) return { path: spec.hostPath, field: 'workspace.hostPath' };
  const local = localGitPath(spec.git.url);
  return local === null ? null : { path: local, field: 'workspace.git.url' };
}

/** The workspace with `${secret:NAME}` in its git URL resolved, for one run. Throws UnknownSecretError. */
export function resolveWorkspaceSecrets(spec: WorkspaceSpec | null, secrets: SecretValues): WorkspaceSpec | null {
  if (spec === null || 'hostPath' in spec) return spec;
  return { git: { ...spec.git, url: resolveSecretRefs(spec.git.url, secrets) } };
}

/** Reads a stored workspace back: only what parseWorkspace could have written passes. */
export function toWorkspaceSpec(value: unknown): WorkspaceSpec | null {
  if (typeof value !== 'object' || value === null) return null;
  const record: Record<string, unknown> = { ...value };
  const { git, hostPath, readOnly } = record;
  if (typeof hostPath === 'string' && typeof readOnly === 'boolean') return { hostPath, readOnly };
  if (typeof git !== 'object' || git === null) return null;
  const gitRecord: Record<string, unknown> = { ...git };
  const { url, ref, depth } = gitRecord;
  if (typeof url !== 'string') return null;
  return { git: { url, ...(typeof ref === 'string' ? { ref } : {}), ...(typeof depth === 'number' ? { depth } : {}) } };
}
