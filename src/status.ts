/**
 * `channelsync status` as a person reads it: one row per channel, and the
 * full text of any last error under the table (the table cuts it short).
 */
import { pauseAdvice } from './db/channels.ts';

/** One channel's figures, as the status query returns them. */
export interface ChannelStatus {
  id: number;
  name: string;
  kind: string;
  enabled: boolean;
  /** Set while the channel is paused until a person reconnects it (0021). */
  paused_at?: Date | null;
  paused_reason?: string | null;
  last_synced_at: Date | null;
  last_error: string | null;
  orders: number;
  pending_pushes: number;
  failed_pushes: number;
  failed_webhooks: number;
  /** Orders set aside because they cannot be saved (`rejected_orders`). */
  rejected_orders: number;
}

const ERROR_WIDTH = 48;

/** "just now", "42 s ago", "5 min ago", "3 h ago", "2 d ago"; "-" for never. */
export function ago(at: Date | null, now: Date): string {
  if (!at) return '-';
  const s = Math.round((now.getTime() - at.getTime()) / 1000);
  if (s < 5) return 'just now';
  if (s < 90) return `${s} s ago`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min ago`;
  if (s < 36 * 3600) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} d ago`;
}

/** The lines `status` prints for these channels (before the queue line). */
export function statusLines(rows: ChannelStatus[], now: Date): string[] {
  if (rows.length === 0) return ['no channels yet: add one with "channelsync channels add <kind> <name> ..."'];
  const oneLine = (e: string) => e.replace(/\s+/g, ' ').trim();
  const head = ['id', 'channel', 'kind', 'enabled', 'last synced (UTC)', 'ago', 'orders', 'pushes pending/failed', 'failed webhooks', 'rejected orders', 'last error'];
  const body = rows.map((r) => {
    const error = r.last_error ? oneLine(r.last_error) : '-';
    return [
      String(r.id),
      r.name,
      r.kind,
      r.enabled ? (r.paused_at ? 'paused' : 'yes') : 'no',
      r.last_synced_at ? r.last_synced_at.toISOString().slice(0, 19).replace('T', ' ') : 'never',
      ago(r.last_synced_at, now),
      String(r.orders),
      `${r.pending_pushes}/${r.failed_pushes}`,
      String(r.failed_webhooks),
      String(r.rejected_orders),
      error.length > ERROR_WIDTH ? `${error.slice(0, ERROR_WIDTH - 1)}…` : error,
    ];
  });
  const numeric = new Set([0, 6, 7, 8, 9]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (numeric.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  const out = [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)];
  // A paused channel says why and the exact command that ends the pause, whole.
  const paused = rows.filter((r) => r.enabled && r.paused_at);
  if (paused.length) out.push('', 'paused channels (nothing resumes them but new credentials):', ...paused.map((r) => `  ${r.name}: ${pauseAdvice(r.id, { at: r.paused_at!, reason: r.paused_reason ?? '' })}`));
  const errors = rows.filter((r) => r.last_error && oneLine(r.last_error).length > ERROR_WIDTH);
  if (errors.length) out.push('', 'last errors in full:', ...errors.map((r) => `  ${r.name}: ${oneLine(r.last_error!)}`));
  return out;
}
