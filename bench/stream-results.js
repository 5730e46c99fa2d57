// The figures of bench/stream.js as Markdown: printed, and written to bench/RESULTS.md between this
// bench's own markers (unless told not to).
import os from 'node:os';
import path from 'node:path';
import { RESULTS, writeResultsSection } from './results-file.js';

const START = '<!-- bench:stream:start (written by bench/stream.js; edits inside are overwritten) -->';
const END = '<!-- bench:stream:end -->';
const TARGETS = { recordingShare: 0.05, lagP99Ms: 250 };

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const ms = (x) => `${x.toFixed(x < 10 ? 2 : 0)} ms`;
const mib = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
const pct = (x) => `${(x * 100).toFixed(2)}%`;
const verdict = (ok) => (ok ? 'met' : '**missed**');

function recordingLines({ samples, writer }, toolCalls, runs) {
  const fig = (mode, key) => median(samples[mode].map((s) => s[key]));
  const events = fig('on', 'events');
  const added = fig('on', 'serviceCpuMs') - fig('off', 'serviceCpuMs');
  const claude = median([...samples.on, ...samples.off].map((s) => s.claudeCpuMs));
  const writerShare = writer.cpuMsPerRun / claude;
  return [
    `A run of ${toolCalls} tool calls (Bash \`echo\`, sandbox off) through the real App, runner, SDK and \`claude\`, ${runs} runs per mode, medians:`,
    '',
    '| figure | transcript off | transcript on |',
    '|---|---|---|',
    `| events stored per run | ${fig('off', 'events')} | ${events} |`,
    `| wall time per run | ${ms(fig('off', 'wallMs'))} | ${ms(fig('on', 'wallMs'))} |`,
    `| service CPU per run (this process) | ${ms(fig('off', 'serviceCpuMs'))} | ${ms(fig('on', 'serviceCpuMs'))} |`,
    `| \`claude\` tree CPU per run | ${ms(fig('off', 'claudeCpuMs'))} | ${ms(fig('on', 'claudeCpuMs'))} |`,
    '',
    `- Recording added ${ms(added)} of service CPU per run (${ms(added / Math.max(1, events))} per event): ${pct(added / claude)} of the \`claude\` tree's CPU (target under ${pct(TARGETS.recordingShare)}: ${verdict(added / claude < TARGETS.recordingShare)}). End to end the difference of two medians is noisy; the next line is the steadier figure.`,
    `- The writer and the store alone (${writer.runs} transcripts of ${writer.eventsPerRun} events, a batch every 5 events, SQLite): ${ms(writer.cpuMsPerEvent)} of CPU per event, ${ms(writer.cpuMsPerRun)} per run: ${pct(writerShare)} of a run's \`claude\` CPU (${verdict(writerShare < TARGETS.recordingShare)}).`,
    `- The whole service (runner, SDK message handling, executor, store, transcript) spent ${pct(fig('on', 'serviceCpuMs') / claude)} of the \`claude\` tree's CPU per run.`,
  ];
}

function streamingLines(s, streamMs) {
  const { before, idle, peak, after } = s.memory;
  return [
    `${s.clients} SSE clients (10 users x 10 streams) on one run that records a tool call and its result every 50 ms for ${streamMs / 1000} s (${s.events} events), the server in a child process:`,
    '',
    '| figure | value |',
    '|---|---|',
    `| delivery lag, median | ${ms(s.lag.median)} |`,
    `| delivery lag, p99 | ${ms(s.lag.p99)} (target under ${TARGETS.lagP99Ms} ms: ${verdict(s.lag.p99 < TARGETS.lagP99Ms)}) |`,
    `| delivery lag, max | ${ms(s.lag.max)} |`,
    `| every client got every event once, in order, then \`end\` | ${s.exact ? 'yes' : '**no**'} |`,
    `| server RSS: run started / ${s.clients} streams open / peak while streaming / after | ${mib(before.rss)} / ${mib(idle.rss)} / ${mib(peak.rss)} / ${mib(after.rss)} |`,
    `| server heap after GC: run started / ${s.clients} streams open / after | ${mib(before.heapUsed)} / ${mib(idle.heapUsed)} / ${mib(after.heapUsed)} |`,
    `| server CPU while streaming | ${ms(s.cpuMsDuring)} (${pct(s.cpuMsDuring / streamMs)} of one core) |`,
    '',
    "Lag is the time from the event's `at` (stamped when the runner reported it) to its arrival at the client: it includes the writer's batching (a batch is stored 200 ms after its first event), then the insert, the bus and the fan-out.",
  ];
}

export function writeSection({ recording, streaming, settings, toolCalls, loadBefore, loadAfter, write }) {
  const body = [...recordingLines(recording, toolCalls, settings.runs), '', ...streamingLines(streaming, settings.streamMs)];
  for (const line of body) process.stdout.write(`${line}\n`);
  if (!write) return;
  const block = [
    START,
    '',
    `## Run transcripts and live streams: ${new Date().toISOString()}`,
    '',
    'Command: `npm run bench` (`node bench/stream.js`)',
    '',
    `- Machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown'}); Node ${process.version}; 1-minute load average ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after.`,
    '',
    ...body,
    '',
    END,
  ].join('\n');
  writeResultsSection(START, END, block);
  process.stderr.write(`[bench:stream] results written to ${path.relative(process.cwd(), RESULTS)}\n`);
}
