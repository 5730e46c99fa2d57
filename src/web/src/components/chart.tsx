import { useEffect, useRef, useState } from 'preact/hooks';
import type { DailyRuns } from '../api';
import { count, day, usd } from '../format';

/**
 * Daily runs (succeeded, failed and in progress, stacked) or daily cost, as a hand-drawn SVG bar
 * chart sized to its container. Failed runs are hatched as well as coloured, the legend names
 * each series, every bar has a tooltip, and a table beside it gives screen readers the figures.
 */

let nextId = 0;

const tickNumber = new Intl.NumberFormat('en-US', { maximumSignificantDigits: 2 });

/** "$0.0002", "$0.5", "$12": axis labels without trailing zeros. */
function usdTick(value: number): string {
  return `$${tickNumber.format(value)}`;
}

const MANTISSAS = [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10];

/** A round step for three grid intervals that reach `value` (whole steps for counts). */
function niceStep(value: number, money: boolean): number {
  if (value <= 0) return money ? 0.005 : 1;
  const raw = value / 3;
  const base = 10 ** Math.floor(Math.log10(raw));
  for (const mantissa of MANTISSAS) {
    const step = mantissa * base;
    if (step >= raw && (money || Number.isInteger(step))) return step;
  }
  return Math.ceil(raw);
}

function useWidth<T extends HTMLElement>(): [preact.RefObject<T | null>, number] {
  const ref = useRef<T>(null);
  const [width, setWidth] = useState(640);
  useEffect(() => {
    const element = ref.current;
    if (!element) return;
    setWidth(element.clientWidth);
    const observer = new ResizeObserver((entries) => {
      const entry = entries[0];
      if (entry) setWidth(Math.round(entry.contentRect.width));
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  return [ref, width];
}

const HEIGHT = 180;

/** Where everything goes: the y scale (three round steps), the margins and the bar bands. */
function chartLayout(days: DailyRuns[], money: boolean, width: number) {
  const values = days.map((d) => (money ? d.costUsd : d.total));
  const step = niceStep(Math.max(0, ...values), money);
  const ticks = [0, step, 2 * step, 3 * step];
  const max = 3 * step;
  const tickLabel = (value: number) => (money ? usdTick(value) : count(value));
  // Room for the longest y-axis label (about 6.5 px per character at 11 px).
  const padding = { top: 10, right: 8, bottom: 24, left: 12 + Math.max(...ticks.map((t) => tickLabel(t).length)) * 6.5 };
  const plotWidth = Math.max(40, width - padding.left - padding.right);
  const plotHeight = HEIGHT - padding.top - padding.bottom;
  const band = plotWidth / Math.max(1, days.length);
  return {
    ticks,
    tickLabel,
    padding,
    plotWidth,
    plotHeight,
    y: (value: number) => padding.top + plotHeight - (value / max) * plotHeight,
    band,
    barWidth: Math.max(2, Math.min(40, band * 0.68)),
    labelEvery: Math.max(1, Math.ceil(days.length / Math.max(1, Math.floor(plotWidth / 56)))),
    empty: values.every((v) => v === 0),
  };
}

type Layout = ReturnType<typeof chartLayout>;

function describeDay(d: DailyRuns, money: boolean): string {
  const other = Math.max(0, d.total - d.success - d.error);
  return money
    ? `${day(d.date)}: ${usd(d.costUsd)}`
    : `${day(d.date)}: ${d.total} run${d.total === 1 ? '' : 's'} — ${d.success} succeeded, ${d.error} failed or cancelled${other ? `, ${other} in progress` : ''}`;
}

export function DailyChart({ days, kind, title }: { days: DailyRuns[]; kind: 'runs' | 'cost'; title: string }) {
  const [boxRef, width] = useWidth<HTMLDivElement>();
  const [hatchId] = useState(() => `hatch-${++nextId}`);
  const money = kind === 'cost';
  const layout = chartLayout(days, money, width);
  const { padding, plotWidth, plotHeight, y } = layout;

  return (
    <figure class="chart" data-testid={`chart-${kind}`}>
      <figcaption>
        <span class="chart-title">{title}</span>
        <Legend money={money} />
      </figcaption>
      <div class="chart-box" ref={boxRef}>
        <svg width={width} height={HEIGHT} aria-hidden="true" focusable="false">
          <defs>
            <pattern id={hatchId} width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
              <rect width="6" height="6" class="bar-err" />
              <line x1="0" y1="0" x2="0" y2="6" class="hatch-line" stroke-width="2.5" />
            </pattern>
          </defs>
          {layout.ticks.map((tick) => (
            <g key={tick}>
              <line x1={padding.left} x2={padding.left + plotWidth} y1={y(tick)} y2={y(tick)} class="grid-line" />
              <text x={padding.left - 6} y={y(tick) + 4} class="axis-label" text-anchor="end">
                {layout.tickLabel(tick)}
              </text>
            </g>
          ))}
          {days.map((d, i) => (
            // Labels count back from the last day (today), which is always labelled.
            <DayBars key={d.date} d={d} index={i} layout={layout} money={money} hatchId={hatchId} labelled={(days.length - 1 - i) % layout.labelEvery === 0} />
          ))}
          {layout.empty ? (
            <text x={padding.left + plotWidth / 2} y={padding.top + plotHeight / 2} class="empty-label" text-anchor="middle">
              {money ? 'No cost in this period' : 'No runs in this period'}
            </text>
          ) : null}
        </svg>
      </div>
      <ChartTable days={days} money={money} title={title} />
    </figure>
  );
}

function Legend({ money }: { money: boolean }) {
  if (money) {
    return (
      <span class="legend">
        <span class="legend-item">
          <span class="swatch swatch-cost" aria-hidden="true" />
          Cost (USD)
        </span>
      </span>
    );
  }
  return (
    <span class="legend">
      <span class="legend-item">
        <span class="swatch swatch-ok" aria-hidden="true" />
        Succeeded
      </span>
      <span class="legend-item">
        <span class="swatch swatch-err" aria-hidden="true" />
        Failed or cancelled
      </span>
      <span class="legend-item">
        <span class="swatch swatch-other" aria-hidden="true" />
        In progress
      </span>
    </span>
  );
}

interface DayBarsProps {
  d: DailyRuns;
  index: number;
  layout: Layout;
  money: boolean;
  hatchId: string;
  labelled: boolean;
}

/** One day: its stacked bars, a tooltip, and its date under the axis when labelled. */
function DayBars({ d, index, layout, money, hatchId, labelled }: DayBarsProps) {
  const { padding, band, barWidth, plotHeight, y } = layout;
  const x = padding.left + index * band + (band - barWidth) / 2;
  const bars: { value: number; className: string; fill?: string }[] = money
    ? [{ value: d.costUsd, className: 'bar-cost' }]
    : [
        { value: d.success, className: 'bar-ok' },
        // Hatched as well as red: failures do not depend on seeing colour.
        { value: d.error, className: 'bar-failed', fill: `url(#${hatchId})` },
        { value: Math.max(0, d.total - d.success - d.error), className: 'bar-other' },
      ];
  let base = 0;
  return (
    <g class="day">
      <title>{describeDay(d, money)}</title>
      {/* A full-height hit area, so the tooltip shows over short bars too. */}
      <rect x={padding.left + index * band} y={padding.top} width={band} height={plotHeight} class="hit" />
      {bars.map((bar) => {
        if (bar.value <= 0) return null;
        const top = y(base + bar.value);
        const h = Math.max(1.5, y(base) - top);
        base += bar.value;
        return <rect key={bar.className} x={x} y={top} width={barWidth} height={h} rx={2} class={bar.className} fill={bar.fill} />;
      })}
      {labelled ? (
        <text x={x + barWidth / 2} y={HEIGHT - 6} class="axis-label" text-anchor="middle">
          {day(d.date)}
        </text>
      ) : null}
    </g>
  );
}

/** The figures for screen readers. A wrapper hides it: a table ignores a width too small for its content and would widen the page. */
function ChartTable({ days, money, title }: { days: DailyRuns[]; money: boolean; title: string }) {
  return (
    <div class="sr-only">
      <table>
        <caption>{title}</caption>
        <thead>
          <tr>
            <th scope="col">Day (UTC)</th>
            {money ? <th scope="col">Cost</th> : <th scope="col">Runs</th>}
            {money ? null : <th scope="col">Succeeded</th>}
            {money ? null : <th scope="col">Failed or cancelled</th>}
          </tr>
        </thead>
        <tbody>
          {days.map((d) => (
            <tr key={d.date}>
              <th scope="row">{d.date}</th>
              {money ? <td>{usd(d.costUsd)}</td> : <td>{d.total}</td>}
              {money ? null : <td>{d.success}</td>}
              {money ? null : <td>{d.error}</td>}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
