/**
 * A strict reader of the Prometheus text exposition format (version 0.0.4), for the metrics
 * tests: it throws on anything a Prometheus server would reject (a malformed line, a sample
 * before or outside its family's TYPE, a family split in two, a duplicate series, a histogram
 * whose buckets are not cumulative or whose +Inf bucket differs from its count), and returns
 * the families with their samples so tests can read values.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface MetricFamily {
  name: string;
  type: MetricType;
  help: string | null;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set<MetricType>(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

/** The names a family's samples may have: histograms and summaries add suffixes. */
function sampleNames(family: string, type: MetricType): string[] {
  if (type === 'histogram') return [`${family}_bucket`, `${family}_sum`, `${family}_count`];
  if (type === 'summary') return [family, `${family}_sum`, `${family}_count`];
  return [family];
}

/** A float as Prometheus reads one (Go's ParseFloat): NaN and Inf in any case (prom-client writes `Nan`). */
function parseValue(raw: string, line: number): number {
  const special = /^([-+]?)(inf|infinity)$/i.exec(raw);
  if (special) return special[1] === '-' ? -Infinity : Infinity;
  if (/^nan$/i.test(raw)) return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(raw)) throw new Error(`line ${line}: "${raw}" is not a sample value`);
  return Number(raw);
}

/** `{a="1",b="x\"y"}` from `text` at `start` (the `{`); returns the labels and where they end. */
function parseLabels(text: string, start: number, line: number): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  let i = start + 1;
  for (;;) {
    if (text[i] === '}') return { labels, end: i + 1 };
    const eq = text.indexOf('=', i);
    if (eq < 0) throw new Error(`line ${line}: a label without "="`);
    const name = text.slice(i, eq).trim();
    if (!LABEL_NAME.test(name)) throw new Error(`line ${line}: "${name}" is not a label name`);
    if (name in labels) throw new Error(`line ${line}: label ${name} twice`);
    if (text[eq + 1] !== '"') throw new Error(`line ${line}: the value of ${name} is not quoted`);
    let value = '';
    let j = eq + 2;
    for (; j < text.length && text[j] !== '"'; j++) {
      if (text[j] !== '\\') {
        value += text[j];
        continue;
      }
      const next = text[++j];
      if (next === 'n') value += '\n';
      else if (next === '\\' || next === '"') value += next;
      else throw new Error(`line ${line}: bad escape \\${next} in ${name}`);
    }
    if (j >= text.length) throw new Error(`line ${line}: the value of ${name} is not closed`);
    labels[name] = value;
    i = j + 1;
    if (text[i] === ',') i++;
    else if (text[i] !== '}') throw new Error(`line ${line}: expected "," or "}" after ${name}`);
  }
}

function parseSample(text: string, line: number): Sample {
  const nameEnd = text.search(/[{ ]/);
  if (nameEnd < 0) throw new Error(`line ${line}: a sample without a value`);
  const name = text.slice(0, nameEnd);
  if (!METRIC_NAME.test(name)) throw new Error(`line ${line}: "${name}" is not a metric name`);
  let rest = nameEnd;
  let labels: Record<string, string> = {};
  if (text[nameEnd] === '{') ({ labels, end: rest } = parseLabels(text, nameEnd, line));
  const parts = text.slice(rest).trim().split(/ +/);
  if (parts.length < 1 || parts.length > 2 || parts[0] === '') throw new Error(`line ${line}: expected a value (and a timestamp) after the series`);
  if (parts[1] !== undefined && !/^-?\d+$/.test(parts[1])) throw new Error(`line ${line}: "${parts[1]}" is not a timestamp`);
  return { name, labels, value: parseValue(parts[0]!, line) };
}

/** Checks a histogram's series: buckets ascending by `le`, cumulative, the last one +Inf and equal to `_count`. */
function checkHistogram(family: MetricFamily): void {
  const series = new Map<string, { buckets: { le: number; value: number }[]; count?: number; sum?: number }>();
  for (const sample of family.samples) {
    const { le, ...rest } = sample.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    const entry = series.get(key) ?? { buckets: [] };
    series.set(key, entry);
    if (sample.name.endsWith('_bucket')) {
      if (le === undefined) throw new Error(`${family.name}: a bucket without le`);
      entry.buckets.push({ le: parseValue(le, 0), value: sample.value });
    } else if (sample.name.endsWith('_count')) entry.count = sample.value;
    else entry.sum = sample.value;
  }
  for (const [key, { buckets, count, sum }] of series) {
    if (count === undefined || sum === undefined) throw new Error(`${family.name}${key}: no _count or _sum`);
    if (buckets.at(-1)?.le !== Infinity) throw new Error(`${family.name}${key}: no +Inf bucket`);
    for (let i = 1; i < buckets.length; i++) {
      if (!(buckets[i]!.le > buckets[i - 1]!.le)) throw new Error(`${family.name}${key}: buckets out of order`);
      if (buckets[i]!.value < buckets[i - 1]!.value) throw new Error(`${family.name}${key}: buckets not cumulative`);
    }
    if (buckets.at(-1)!.value !== count) throw new Error(`${family.name}${key}: +Inf bucket ${buckets.at(-1)!.value} != count ${count}`);
  }
}

/** Parses exposition text; throws naming the first problem. */
export function parsePrometheusText(text: string): Map<string, MetricFamily> {
  const families = new Map<string, MetricFamily>();
  const seenSeries = new Set<string>();
  let current: MetricFamily | null = null;
  const lines = text.split('\n');
  if (lines.at(-1) !== '') throw new Error('the text does not end with a line feed');
  lines.forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === '') return;
    const meta = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s(.*))?$/.exec(raw);
    if (meta) {
      const [, kind, name = '', rest = ''] = meta;
      if (!METRIC_NAME.test(name)) throw new Error(`line ${line}: "${name}" is not a metric name`);
      const family = families.get(name);
      if (family && family !== current) throw new Error(`line ${line}: ${name} was already described`);
      if (kind === 'HELP') {
        if (family?.help != null) throw new Error(`line ${line}: a second HELP for ${name}`);
        const entry = family ?? { name, type: 'untyped' as MetricType, help: null, samples: [] };
        entry.help = rest;
        families.set(name, entry);
        current = entry;
        return;
      }
      if (!TYPES.has(rest.trim() as MetricType)) throw new Error(`line ${line}: "${rest}" is not a metric type`);
      if (family && family.samples.length > 0) throw new Error(`line ${line}: TYPE of ${name} after its samples`);
      const entry = family ?? { name, type: 'untyped' as MetricType, help: null, samples: [] };
      entry.type = rest.trim() as MetricType;
      families.set(name, entry);
      current = entry;
      return;
    }
    if (raw.startsWith('#')) return;
    const sample = parseSample(raw, line);
    if (!current || !sampleNames(current.name, current.type).includes(sample.name)) {
      throw new Error(`line ${line}: sample ${sample.name} is outside its family (${current?.name ?? 'none'})`);
    }
    const series = `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`;
    if (seenSeries.has(series)) throw new Error(`line ${line}: series ${series} twice`);
    seenSeries.add(series);
    current.samples.push(sample);
  });
  for (const family of families.values()) if (family.type === 'histogram') checkHistogram(family);
  return families;
}

/** The value of one series (the sample named `name` whose labels include `labels`), or undefined. */
export function sampleValue(families: Map<string, MetricFamily>, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const family of families.values()) {
    for (const sample of family.samples) {
      if (sample.name !== name) continue;
      if (Object.entries(labels).every(([key, value]) => sample.labels[key] === value)) return sample.value;
    }
  }
  return undefined;
}
