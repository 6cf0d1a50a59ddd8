/**
 * A small server-rendered SVG line chart: no script, no build step.
 * Each series has its own colour, dash pattern and width (the first widest),
 * so two channels with the same counts still show as two lines, and the
 * legend draws each line's own stroke. Counts are whole numbers: the y axis
 * ticks are whole steps (1, 2, 5, 10, ...), never "3.8 orders".
 */
import { esc } from './html.ts';

const COLOURS = ['#2f5bea', '#e8590c', '#0ca678', '#ae3ec9', '#f59f00', '#1098ad', '#e03131', '#495057'];
const DASHES = ['', '8 4', '2 3', '10 3 2 3', '4 4', '1 5'];

/** The stroke of series number `idx`: drawn later and narrower than the one before, so it never hides it. */
export function seriesStroke(idx: number): { colour: string; dash: string; width: number } {
  return { colour: COLOURS[idx % COLOURS.length]!, dash: DASHES[idx % DASHES.length]!, width: Math.max(1.5, 4 - idx * 0.75) };
}

export interface ChartSeries {
  name: string;
  values: number[];
}

export interface LineChartOptions {
  id: string;
  title: string;
  /** One label per value index (shown every few ticks). */
  labels: string[];
  width?: number;
  height?: number;
}

export function lineChart(series: ChartSeries[], options: LineChartOptions): string {
  const width = options.width ?? 960;
  const height = options.height ?? 260;
  const pad = { left: 40, right: 16, top: 16, bottom: 44 };
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const n = Math.max(1, options.labels.length);
  const total = series.reduce((sum, s) => sum + s.values.reduce((a, b) => a + b, 0), 0);
  const max = Math.max(1, ...series.flatMap((s) => s.values));
  const tick = integerStep(max);
  const yMax = Math.ceil(max / tick) * tick;
  const x = (i: number) => pad.left + (n === 1 ? plotW / 2 : (i * plotW) / (n - 1));
  const y = (v: number) => pad.top + plotH - (v / yMax) * plotH;

  const grid: string[] = [];
  for (let v = 0; v <= yMax; v += tick) {
    grid.push(
      `<line x1="${pad.left}" x2="${width - pad.right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e3e6ec"/>`,
      `<text x="${pad.left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" font-size="11" fill="#687083">${fmt(v)}</text>`,
    );
  }
  const step = Math.max(1, Math.ceil(n / 8));
  const ticks = options.labels
    .map((label, i) =>
      i % step === 0 || i === n - 1
        ? `<text x="${x(i).toFixed(1)}" y="${height - pad.bottom + 16}" text-anchor="middle" font-size="11" fill="#687083">${esc(label)}</text>`
        : '',
    )
    .join('');
  const lines = series
    .map((s, idx) => {
      const { colour, dash, width: strokeWidth } = seriesStroke(idx);
      const points = s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
      const dots = s.values
        .map((v, i) => (v > 0 ? `<circle cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="2.5" fill="${colour}"><title>${esc(s.name)} ${esc(options.labels[i])}: ${v}</title></circle>` : ''))
        .join('');
      return `<g class="series" data-series="${esc(s.name)}" data-total="${s.values.reduce((a, b) => a + b, 0)}"><polyline fill="none" stroke="${colour}" stroke-width="${strokeWidth}"${dash ? ` stroke-dasharray="${dash}"` : ''} points="${points}"/>${dots}</g>`;
    })
    .join('');
  const legend = series
    .map((s, idx) => {
      const lx = pad.left + idx * 180;
      const { colour, dash, width: strokeWidth } = seriesStroke(idx);
      return `<g class="legend-item"><line x1="${lx}" x2="${lx + 24}" y1="${height - 11}" y2="${height - 11}" stroke="${colour}" stroke-width="${strokeWidth}"${dash ? ` stroke-dasharray="${dash}"` : ''}/><text x="${lx + 30}" y="${height - 7}" font-size="12" fill="#1d2433">${esc(s.name)}</text></g>`;
    })
    .join('');
  const empty = series.length === 0 ? `<text x="${width / 2}" y="${height / 2}" text-anchor="middle" fill="#687083">no channels yet</text>` : '';
  return `<svg id="${esc(options.id)}" role="img" aria-label="${esc(options.title)}" data-total="${total}" viewBox="0 0 ${width} ${height}" width="100%" xmlns="http://www.w3.org/2000/svg">
<title>${esc(options.title)}</title>${grid.join('')}${ticks}${lines}${legend}${empty}</svg>`;
}

/** A whole tick step (1, 2, 5, 10, 20, 50, ...) giving at most 5 steps up to `max`. */
export function integerStep(max: number): number {
  for (let magnitude = 1; ; magnitude *= 10) {
    for (const m of [1, 2, 5]) if (Math.ceil(max / (m * magnitude)) <= 5) return m * magnitude;
  }
}

function fmt(v: number): string {
  return String(v);
}
