import { readdirSync, readFileSync } from 'node:fs';

/**
 * Set in the environment of each `claude` process, and so inherited by everything it starts. Not
 * a CRON_AGENTS_* name: no variable of that family ever reaches a run.
 */
export const RUN_TAG_ENV = 'CRON_RUN_TAG';
/** The tag's earlier name: processes left behind by an older version of the service carry it. */
const LEGACY_RUN_TAG_ENV = 'CRON_AGENTS_RUN_TAG';

const delay = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, ms);
  });

interface ProcInfo {
  pid: number;
  ppid: number;
  pgrp: number;
  sid: number;
  zombie: boolean;
}

function readProcs(): Map<number, ProcInfo> | null {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return null;
  }
  const procs = new Map<number, ProcInfo>();
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // pid (comm) state ppid pgrp session ...; comm may contain spaces and parentheses.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const pid = Number(name);
      procs.set(pid, {
        pid,
        ppid: Number(fields[1]),
        pgrp: Number(fields[2]),
        sid: Number(fields[3]),
        zombie: fields[0] === 'Z' || fields[0] === 'X',
      });
    } catch {
      // exited meanwhile
    }
  }
  return procs;
}

let ownIds: { pid: number; pgrp: number; sid: number } | null = null;
function selfIds(procs: Map<number, ProcInfo>): { pid: number; pgrp: number; sid: number } {
  if (!ownIds) {
    const me = procs.get(process.pid);
    ownIds = { pid: process.pid, pgrp: me?.pgrp ?? -1, sid: me?.sid ?? -1 };
  }
  return ownIds;
}

/**
 * The processes of one `claude` run: its descendants, and every process sharing a session or a
 * process group with one of them (which catches children reparented to init after their parent
 * died, e.g. a Bash tool command whose shell was killed). Never includes this service's own
 * process, group or session.
 */
export class ProcessTree {
  private readonly tagBytes: Buffer;
  private root: number | null = null;

  constructor(tag: string) {
    this.tagBytes = Buffer.from(`${RUN_TAG_ENV}=${tag}\0`);
  }

  /** Whether the process's initial environment carries this run's tag. */
  private hasTag(pid: number): boolean {
    return taggedWith(pid, [this.tagBytes]);
  }

  private readonly pids = new Set<number>();
  private sids = new Set<number>();
  private pgrps = new Set<number>();

  setRoot(pid: number): void {
    this.root = pid;
    this.pids.add(pid);
    // detached: the root leads its own session and group.
    this.sids.add(pid);
    this.pgrps.add(pid);
  }

  /**
   * Refreshes the membership; returns the live members. With `byTag`, also every process whose
   * environment carries the run's tag (catches orphans that left the tracked sessions unseen,
   * e.g. `nohup cmd &` from a Bash tool call that ended between two samples).
   */
  sample(byTag = false): number[] {
    if (this.root === null) return [];
    const procs = readProcs();
    if (!procs) return this.fallbackMembers();
    const self = selfIds(procs);
    const members = new Set<number>();
    const children = new Map<number, number[]>();
    for (const p of procs.values()) {
      const list = children.get(p.ppid);
      if (list) list.push(p.pid);
      else children.set(p.ppid, [p.pid]);
    }
    const queue: number[] = [];
    for (const p of procs.values()) {
      if (p.pid === self.pid || p.zombie) continue;
      if (this.pids.has(p.pid) || this.sids.has(p.sid) || this.pgrps.has(p.pgrp) || (byTag && this.hasTag(p.pid))) queue.push(p.pid);
    }
    for (let pid = queue.pop(); pid !== undefined; pid = queue.pop()) {
      if (members.has(pid) || pid === self.pid) continue;
      const p = procs.get(pid);
      if (!p || p.zombie) continue;
      members.add(pid);
      for (const c of children.get(pid) ?? []) queue.push(c);
    }
    const sids = new Set<number>();
    const pgrps = new Set<number>();
    this.pids.clear();
    for (const pid of members) {
      const p = procs.get(pid);
      if (!p) continue; // members are all in procs
      this.pids.add(pid);
      if (p.sid !== self.sid && p.sid > 1) sids.add(p.sid);
      if (p.pgrp !== self.pgrp && p.pgrp > 1) pgrps.add(p.pgrp);
    }
    // Ids with no live member are dropped: they are free for reuse by unrelated processes.
    this.sids = sids;
    this.pgrps = pgrps;
    return [...members];
  }

  private fallbackMembers(): number[] {
    if (this.root === null) return [];
    try {
      process.kill(this.root, 0);
      return [this.root];
    } catch {
      return [];
    }
  }

  private signal(members: number[], sig: NodeJS.Signals): void {
    for (const pid of members) {
      try {
        process.kill(pid, sig);
      } catch {
        // gone
      }
    }
    // Without /proc: the group of the root is all that can be reached.
    if (this.root !== null && members.length > 0 && readProcs() === null) {
      try {
        process.kill(-this.root, sig);
      } catch {
        // gone
      }
    }
  }

  /** SIGTERM every member, SIGKILL what is left after the grace; resolves when all are gone (bounded). */
  async terminate(graceMs: number): Promise<void> {
    let members = this.sample(true);
    if (members.length === 0) return;
    this.signal(members, 'SIGTERM');
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline) {
      await delay(100);
      members = this.sample(true);
      if (members.length === 0) return;
    }
    for (let i = 0; i < 10; i++) {
      this.signal(members, 'SIGKILL');
      await delay(100);
      members = this.sample(true);
      if (members.length === 0) return;
    }
  }
}

/** Whether a process's initial environment carries a run tag starting with one of `prefixes`. */
function taggedWith(pid: number, prefixes: readonly Buffer[]): boolean {
  let env: Buffer;
  try {
    env = readFileSync(`/proc/${pid}/environ`);
  } catch {
    return false;
  }
  return prefixes.some((prefix) => env.subarray(0, prefix.length).equals(prefix) || env.indexOf(Buffer.concat([Buffer.from([0]), prefix])) !== -1);
}

/**
 * Kills the processes left behind by runs whose executor died (kill -9 of the service): each
 * carries its run's tag, `<runId>.<random>`, in its environment. Run ids are UUIDs, so another
 * service's processes are never matched. Returns how many processes it signalled.
 */
export async function killRunProcesses(runIds: readonly string[], graceMs = 1500): Promise<number> {
  if (runIds.length === 0) return 0;
  const prefixes = runIds.flatMap((id) => [RUN_TAG_ENV, LEGACY_RUN_TAG_ENV].map((name) => Buffer.from(`${name}=${id}.`)));
  const find = (): number[] => {
    const procs = readProcs();
    if (!procs) return [];
    return [...procs.values()].filter((p) => p.pid !== process.pid && !p.zombie && taggedWith(p.pid, prefixes)).map((p) => p.pid);
  };
  const signal = (pids: number[], sig: NodeJS.Signals) => {
    for (const pid of pids) {
      try {
        process.kill(pid, sig);
      } catch {
        // gone
      }
    }
  };
  const found = find();
  if (found.length === 0) return 0;
  signal(found, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  let left = found;
  while (left.length > 0 && Date.now() < deadline) {
    await delay(100);
    left = find();
  }
  signal(left, 'SIGKILL');
  return found.length;
}
