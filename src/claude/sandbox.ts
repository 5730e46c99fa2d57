import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import type { Options, SandboxSettings } from '@anthropic-ai/claude-agent-sdk';

/** CRON_AGENTS_SANDBOX: tool commands run in Claude Code's sandbox (`required`), or not at all (`off`). */
export type SandboxMode = 'required' | 'off';

/** What the sandbox needs on Linux: bubblewrap runs the commands, socat bridges its network proxy. */
const SANDBOX_TOOLS = [
  { command: 'bwrap', pkg: 'bubblewrap' },
  { command: 'socat', pkg: 'socat' },
];
export const SANDBOX_INSTALL_HINT = 'apt-get install -y bubblewrap socat';

/** The sandbox's programs missing from `pathEnv` (a PATH value), as package names. */
export function missingSandboxPackages(pathEnv: string | undefined): string[] {
  const dirs = (pathEnv ?? '').split(path.delimiter).filter((dir) => path.isAbsolute(dir));
  return SANDBOX_TOOLS.filter(({ command }) => !dirs.some((dir) => isExecutable(path.join(dir, command)))).map(({ pkg }) => pkg);
}

/** The message a run ends with (and the start-up check logs) when the sandbox cannot start. */
export function sandboxUnavailableMessage(missing: readonly string[]): string {
  return (
    `The sandbox for tool commands is required but ${missing.join(' and ')} ${missing.length === 1 ? 'is' : 'are'} not installed: ` +
    `install ${missing.length === 1 ? 'it' : 'them'} (${SANDBOX_INSTALL_HINT}), or set CRON_AGENTS_SANDBOX=off to run without a sandbox.`
  );
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Folders of the system a run may read: programs, libraries, configuration. */
const SYSTEM_READ = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/etc'];
/** Inside those, what stays unreadable: host keys, password hashes, sudo rules, TLS private keys. */
const SYSTEM_DENY = ['/etc/ssh', '/etc/shadow', '/etc/shadow-', '/etc/gshadow', '/etc/gshadow-', '/etc/sudoers', '/etc/sudoers.d', '/etc/ssl/private'];
/** Never readable through a PATH entry either: users' home folders. */
const HOME_ROOTS = ['/home', '/root'];

export interface BoundaryPaths {
  /** The run's working directory (its workspace). */
  cwd: string;
  /** Folders a run may read but not write (a read-only host folder): readable, and not a working directory. */
  readOnlyDirs: readonly string[];
  /**
   * The run's temp dir. Readable, because the sandbox's network proxy listens on unix sockets in
   * it (behind a deny-by-default root, unreadable sockets make every proxied connection fail).
   * The commands' TMPDIR inside it is writable by the sandbox's default.
   */
  tmp: string;
  /** PATH of the run: the folders of toolchains outside /usr (e.g. /opt/node/bin) become readable. */
  pathEnv: string | undefined;
  /** Folders that stay unreadable even when inside a readable one: the data dir, the service's install folder. */
  protectedPaths: readonly string[];
}

const inside = (child: string, parent: string): boolean => child === parent || child.startsWith(parent.endsWith('/') ? parent : `${parent}/`);

/** Toolchain folders named by PATH outside the system folders (a `bin` entry gives its parent), never a home or protected folder. */
function toolchainFolders(pathEnv: string | undefined, refused: readonly string[]): string[] {
  const found = new Set<string>();
  for (const entry of (pathEnv ?? '').split(path.delimiter)) {
    if (!path.isAbsolute(entry)) continue;
    const dir = path.normalize(entry);
    const folder = ['bin', 'sbin'].includes(path.basename(dir)) ? path.dirname(dir) : dir;
    if (folder === '/' || SYSTEM_READ.some((root) => inside(folder, root))) continue;
    if (refused.some((root) => inside(folder, root) || inside(root, folder))) continue;
    found.add(folder);
  }
  return [...found];
}

/**
 * The SDK options that hold a run to its boundary when the sandbox is on.
 *
 * Tool commands (Bash) run in Claude Code's sandbox (bubblewrap): they read only the workspace and
 * the system's folders (deny by default: `denyRead: ['/']`, then `allowRead`), write only the
 * workspace and the run's temp dir (the sandbox's own default), reach only the agent's
 * allowedDomains through the sandbox's proxy, and never see the model's credentials. There is no
 * way out: `failIfUnavailable` (a run without bubblewrap fails instead of running unsandboxed) and
 * `allowUnsandboxedCommands: false` (the model's dangerouslyDisableSandbox is ignored).
 *
 * The file tools (Read, Write, Edit, Glob, Grep) are held to the same folders by the
 * block*OutsideWorkingDirectories settings, which also resolve symlinks; the system folders are
 * exempt for reads only.
 *
 * Permissions: the agent's allowedTools stay the only grant (`autoAllowBashIfSandboxed` off).
 * Turning it on would approve any sandboxed command, which makes a scoped rule such as
 * `Bash(git:*)` mean "any command" and grants Bash to an agent that was not given it. With it off,
 * a command naming a path outside the working directories would be refused at the permission
 * layer; `blockReadsExemptPaths` lets the system folders through, and the sandbox still decides
 * what each command can reach.
 */
export function sandboxedOptions(
  paths: BoundaryPaths,
  allowedDomains: readonly string[],
  credentialNames: readonly string[],
): Pick<Options, 'sandbox' | 'settings'> {
  const refused = [...HOME_ROOTS, ...paths.protectedPaths];
  const readable = [...SYSTEM_READ, ...toolchainFolders(paths.pathEnv, refused)];
  // A protected folder only needs a rule of its own where a readable folder would expose it; one
  // holding the workspace must not be listed (it would hide the workspace).
  const granted = [paths.cwd, ...paths.readOnlyDirs];
  const extraDeny = paths.protectedPaths.filter((p) => readable.some((root) => inside(p, root)) && !granted.some((dir) => inside(dir, p)));
  const sandbox: SandboxSettings = {
    enabled: true,
    failIfUnavailable: true,
    allowUnsandboxedCommands: false,
    autoAllowBashIfSandboxed: false,
    filesystem: {
      denyRead: ['/', ...SYSTEM_DENY, ...extraDeny],
      allowRead: [paths.cwd, paths.tmp, ...paths.readOnlyDirs, ...readable],
    },
    network: { allowedDomains: [...allowedDomains], strictAllowlist: true },
    credentials: { envVars: credentialNames.map((name): { name: string; mode: 'deny' } => ({ name, mode: 'deny' })) },
  };
  // `Read(//x)` is the absolute path /x; a folder needs its contents (`/**`) denied as well.
  const deny = [...SYSTEM_DENY, ...extraDeny].flatMap((p) => [`Read(/${p})`, `Read(/${p}/**)`]);
  return {
    sandbox,
    settings: {
      permissions: {
        blockReadsOutsideWorkingDirectories: true,
        blockWritesOutsideWorkingDirectories: true,
        blockReadsExemptPaths: [...paths.readOnlyDirs, ...readable],
        deny,
      },
    },
  };
}
