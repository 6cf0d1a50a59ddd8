/** The dashboard's customer-satisfaction parts: a card with low ratings waiting for a person, and a figure per channel. */
import type { ChannelSatisfaction } from '../../feedback/store.ts';
import { esc } from './html.ts';

export function lowRatingsCard(rows: ChannelSatisfaction[]): string {
  const flagged = rows.reduce((a, r) => a + r.flagged, 0);
  return `<div class="card" id="low-ratings"><span class="muted">Low ratings to look at</span><b class="${flagged ? 'bad' : ''}">${flagged}</b><span class="muted"><a href="/api/feedback?flagged=true">list</a></span></div>`;
}

export function satisfactionTable(rows: ChannelSatisfaction[]): string {
  if (rows.length === 0) return '';
  const body = rows
    .map(
      (r) => `<tr data-channel="${r.channel_id}"><td>${esc(r.name)}</td><td class="num">${r.ratings}</td>
<td class="num">${r.average === null ? '–' : `${r.average.toFixed(2)} / 5`}</td><td class="num">${r.satisfied_percent === null ? '–' : `${r.satisfied_percent}%`}</td>
<td class="num ${r.flagged ? 'bad' : ''}">${r.flagged}</td></tr>`,
    )
    .join('');
  return `<h2>Customer satisfaction</h2>
<table id="satisfaction"><thead><tr><th>Channel</th><th class="num">Ratings</th><th class="num">Average</th><th class="num">Rated 4-5</th><th class="num">Low, flagged</th></tr></thead>
<tbody>${body}</tbody></table>`;
}
