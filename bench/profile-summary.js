// Summarises V8 .cpuprofile files (from `node --cpu-prof`): the functions and the modules with the
// most self time, and the inclusive time of the service's own functions.
//
//   node bench/profile-summary.js <file.cpuprofile> [more files...] [--top 25]
//
// bench/run.js --profile calls summarizeProfile() on the profiles of its server processes.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The module a frame belongs to: a package, a file of the service, node internals, or a V8 pseudo-frame. */
function moduleOf(url) {
  if (!url) return '(native/V8)';
  if (url.startsWith('node:')) return 'node internals';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  const own = /\/(dist|bench)\/(.+)$/.exec(url);
  if (own) return `${own[1]}/${own[2]}`;
  return url;
}

function shortUrl(url) {
  if (!url) return '';
  const m = /(node_modules\/.+|dist\/.+|bench\/.+)$/.exec(url);
  return m ? m[1] : url.replace(/^file:\/\//, '');
}

/** Returns { totalMs, idleMs, byFunction: [...], byModule: [...], ownInclusive: [...] } for one profile. */
export function summarizeProfile(file, { top = 25 } = {}) {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8'));
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfMs = new Map();
  const deltas = profile.timeDeltas;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = (deltas[i + 1] ?? deltas[i] ?? 0) / 1000;
    selfMs.set(profile.samples[i], (selfMs.get(profile.samples[i]) ?? 0) + dt);
  }
  const totalMs = [...selfMs.values()].reduce((a, b) => a + b, 0);
  const byFunction = new Map();
  const byModule = new Map();
  const inclusive = new Map();
  let idleMs = 0;
  for (const [id, ms] of selfMs) {
    const node = nodes.get(id);
    const cf = node.callFrame;
    if (cf.functionName === '(idle)') idleMs += ms;
    const key = `${cf.functionName || '(anonymous)'} ${shortUrl(cf.url)}:${cf.lineNumber + 1}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + ms);
    const mod = moduleOf(cf.url);
    byModule.set(mod, (byModule.get(mod) ?? 0) + ms);
    // Inclusive time of the service's own functions (each function once per stack).
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const f = nodes.get(cur).callFrame;
      if (!/\/dist\//.test(f.url)) continue;
      const k = `${f.functionName || '(anonymous)'} ${shortUrl(f.url)}:${f.lineNumber + 1}`;
      if (seen.has(k)) continue;
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + ms);
    }
  }
  const sorted = (map) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, ms]) => ({ name, ms: Math.round(ms), pct: Math.round((ms / totalMs) * 1000) / 10 }));
  return {
    file,
    totalMs: Math.round(totalMs),
    idleMs: Math.round(idleMs),
    byFunction: sorted(byFunction),
    byModule: sorted(byModule),
    ownInclusive: sorted(inclusive),
  };
}

export function formatSummary(summary) {
  const lines = [`${summary.file}: ${summary.totalMs} ms sampled, ${summary.idleMs} ms idle`];
  const table = (title, rows) => {
    lines.push(`  ${title}`);
    for (const r of rows) lines.push(`    ${String(r.ms).padStart(7)} ms ${String(r.pct).padStart(5)}%  ${r.name}`);
  };
  table('self time by function:', summary.byFunction);
  table('self time by module:', summary.byModule);
  table('inclusive time of the service (dist/) functions:', summary.ownInclusive);
  return lines.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === fs.realpathSync(process.argv[1])) {
  const args = process.argv.slice(2);
  const topAt = args.indexOf('--top');
  const top = topAt >= 0 ? Number(args.splice(topAt, 2)[1]) : 25;
  for (const file of args) console.log(formatSummary(summarizeProfile(file, { top })));
}
