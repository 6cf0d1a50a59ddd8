/** A small server-rendered SVG line chart: no script, no build step. */
import { esc } from './html.ts';

const COLOURS = ['#2f5bea', '#e8590c', '#0ca678', '#ae3ec9', '#f59f00', '#1098ad', '#e03131', '#495057'];

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
  const yMax = niceCeil(max);
  const x = (i: number) => pad.left + (n === 1 ? plotW / 2 : (i * plotW) / (n - 1));
  const y = (v: number) => pad.top + plotH - (v / yMax) * plotH;

  const grid: string[] = [];
  for (let k = 0; k <= 4; k++) {
    const v = (yMax * k) / 4;
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
      const colour = COLOURS[idx % COLOURS.length]!;
      const points = s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
      const dots = s.values
        .map((v, i) => (v > 0 ? `<circle cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="2.5" fill="${colour}"><title>${esc(s.name)} ${esc(options.labels[i])}: ${v}</title></circle>` : ''))
        .join('');
      return `<g class="series" data-series="${esc(s.name)}" data-total="${s.values.reduce((a, b) => a + b, 0)}"><polyline fill="none" stroke="${colour}" stroke-width="2" points="${points}"/>${dots}</g>`;
    })
    .join('');
  const legend = series
    .map((s, idx) => {
      const lx = pad.left + idx * 180;
      return `<rect x="${lx}" y="${height - 16}" width="10" height="10" fill="${COLOURS[idx % COLOURS.length]}"/><text x="${lx + 14}" y="${height - 7}" font-size="12" fill="#1d2433">${esc(s.name)}</text>`;
    })
    .join('');
  const empty = series.length === 0 ? `<text x="${width / 2}" y="${height / 2}" text-anchor="middle" fill="#687083">no channels yet</text>` : '';
  return `<svg id="${esc(options.id)}" role="img" aria-label="${esc(options.title)}" data-total="${total}" viewBox="0 0 ${width} ${height}" width="100%" xmlns="http://www.w3.org/2000/svg">
<title>${esc(options.title)}</title>${grid.join('')}${ticks}${lines}${legend}${empty}</svg>`;
}

function niceCeil(v: number): number {
  if (v <= 4) return 4;
  const magnitude = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * magnitude) return m * magnitude;
  return 10 * magnitude;
}

function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}
