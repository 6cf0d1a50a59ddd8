/**
 * Stock commands: `channelsync stock show|adjust|explain|drift|reorder|rule`,
 * `channelsync listings sync <channel>` and `channelsync reconcile --now`.
 * Registered on the program by src/cli.ts.
 */
import { InvalidArgumentError, type Command } from 'commander';
import type { App } from '../app.ts';
import { ConfigError } from '../domain/errors.ts';
import type { Adjustment } from './ledger.ts';
import type { ReconcileProgress } from './reconcile.ts';
import { bar, progressDone, progressLine } from '../progress.ts';

// The stock modules (and kysely) load inside the actions: registration stays
// light (see src/cli.ts). One loader per action keeps each action's needs in view.
const ledger = () => import('./ledger.ts');
const outbox = () => import('../outbox/index.ts');
const channels = () => import('../db/channels.ts');

type WithApp = (fn: (app: App) => Promise<void>) => Promise<void>;

export function registerStockCommands(program: Command, withApp: WithApp): void {
  const stock = program.command('stock').description('stock levels, adjustments, explanations, drift and reorder forecast');

  stock
    .command('show')
    .description('on hand, reserved and available per SKU and location')
    .argument('[skus...]', 'SKUs to show (default: all)')
    .action(async (skus: string[]) => {
      const { stockLevels } = await import('./explain.ts');
      await withApp(async (app) => {
        const rows = await stockLevels(app.db, skus);
        if (rows.length === 0) console.log(skus.length ? 'no stock recorded for these SKUs' : 'no stock recorded yet');
        else printTable(['SKU', 'location', 'on hand', 'reserved', 'available'], rows.map((r) => [r.sku, r.location, r.onHand, r.reserved, r.available]));
      });
    });

  stock
    .command('adjust')
    .description('book a change: a signed quantity, or with --count the number now on the shelf')
    .argument('<sku>', 'SKU')
    .argument('<quantity>', 'units to add (negative removes), or the counted total with --count', parseInteger)
    .option('--count', 'the quantity is a stock count: book the difference')
    .option('-r, --reason <reason>', 'adjustment, count, damage or receipt', 'adjustment')
    .option('-l, --location <code>', 'location code (default: the first active location)')
    .option('--reference <ref>', 'what caused it (a count sheet, a delivery note)')
    .option('--note <text>', 'a note kept with the movement')
    .action(async (sku: string, quantity: number, opts: { count?: boolean; reason: string; location?: string; reference?: string; note?: string }) => {
      const reasons = ['adjustment', 'count', 'damage', 'receipt'] as const;
      if (!(reasons as readonly string[]).includes(opts.reason)) throw new ConfigError(`--reason must be one of ${reasons.join(', ')}`);
      const [{ adjustStock, locationIdOf, skuIdOf }, { kickStockPushes }] = await Promise.all([ledger(), outbox()]);
      await withApp(async (app) => {
        const skuId = await skuIdOf(app.db, sku);
        const locationId = await locationIdOf(app.db, opts.location);
        const mode = opts.count ? 'count' : 'delta';
        const reason = (opts.count && opts.reason === 'adjustment' ? 'count' : opts.reason) as Adjustment['reason'];
        const { delta, onHand } = await adjustStock(app.db, {
          skuId, locationId, mode, quantity, reason,
          reference: opts.reference ?? `cli:${new Date().toISOString()}`,
          note: opts.note ?? null,
          actor: `cli:${process.env.USER ?? 'unknown'}`,
        });
        if (delta !== 0) await kickStockPushes(app, [skuId]);
        console.log(delta === 0 ? `${sku}: count matches, nothing booked (on hand ${onHand})` : `${sku}: booked ${signed(delta)} (${reason}); on hand now ${onHand}`);
      });
    });

  stock
    .command('explain')
    .description('where a SKU\'s numbers come from: its movements and each channel\'s rules')
    .argument('<sku>', 'SKU')
    .option('-n, --limit <n>', 'most recent movements to list', parseInteger, 50)
    .action(async (sku: string, opts: { limit: number }) => {
      const [{ explainSku }, { skuIdOf }] = await Promise.all([import('./explain.ts'), ledger()]);
      await withApp(async (app) => {
        const e = await explainSku(app.db, await skuIdOf(app.db, sku), opts.limit);
        console.log(`${e.sku}`);
        for (const l of e.levels) console.log(`  ${l.location}: on hand ${l.onHand}, reserved ${l.reserved}, available ${l.available}`);
        if (e.levels.length === 0) console.log('  no stock recorded');
        console.log(`\nmovements${e.omitted ? ` (latest ${e.movements.length}; ${e.omitted} older ones carried in)` : ''}:`);
        for (const c of e.carried) if (e.omitted) console.log(`  ${c.location}: carried in on hand ${c.onHand}, reserved ${c.reserved}`);
        printTable(
          ['#', 'when', 'location', 'reason', 'reference', 'on hand', 'reserved', '= on hand', '= reserved'],
          e.movements.map((m) => [m.id, m.at.toISOString(), m.location, m.reason, m.reference + (m.note ? ` (${m.note})` : ''),
            signed(m.onHandDelta), signed(m.reservedDelta), m.onHand, m.reserved]),
        );
        if (e.channels.length) console.log('\nchannels:');
        for (const c of e.channels) {
          const steps = [`available ${c.available} at ${c.locations}`];
          if (c.buffer) steps.push(`- buffer ${c.buffer}`);
          if (c.sharePercent !== 100) steps.push(`x ${c.sharePercent}%`);
          if (c.maxShown !== null) steps.push(`capped at ${c.maxShown}`);
          console.log(`  ${c.channel}: ${steps.join(' ')} => shows ${c.expected}` +
            `; last pushed ${c.lastPushed ?? 'never'}${c.lastPushedAt ? ` at ${c.lastPushedAt.toISOString()}` : ''}` +
            (c.pushStatus === 'pending' ? ' (push pending)' : c.pushStatus === 'failed' ? ' (push FAILED)' : ''));
        }
      });
    });

  stock
    .command('drift')
    .description('differences reconciliation found between the channels and the ledger')
    .option('--since <when>', 'ISO date or a duration like 24h, 7d', parseSince)
    .option('-c, --channel <channel>', 'channel id or name')
    .option('-n, --limit <n>', 'rows to show', parseInteger, 100)
    .action(async (opts: { since?: Date; channel?: string; limit: number }) => {
      const [{ driftReport }, { resolveChannelId }, { notInitialisedListings }] = await Promise.all([import('./explain.ts'), channels(), import('./listings.ts')]);
      await withApp(async (app) => {
        const channelId = opts.channel ? await resolveChannelId(app.db, opts.channel) : undefined;
        const rows = await driftReport(app.db, { since: opts.since, channelId, limit: opts.limit });
        if (rows.length === 0) console.log('no drift recorded');
        else printTable(
          ['detected', 'channel', 'SKU', 'expected', 'found', 'corrected'],
          rows.map((r) => [r.at.toISOString(), r.channel, r.sku, r.expected, r.found ?? 'untracked', r.correctedAt?.toISOString() ?? `no${r.error ? `: ${r.error}` : ''}`]),
        );
        const waiting = await notInitialisedListings(app.db, channelId);
        if (waiting > 0) console.log(`${waiting} listings not initialised (their SKU has no stock in channelsync): not reconciled, nothing pushed until stock is set`);
      });
    });

  stock
    .command('reorder')
    .description('what to reorder and how much (velocity x lead time + safety stock)')
    .option('--basis <days>', 'velocity window driving the numbers: 7, 30 or 90', parseBasis, 30)
    .option('--cover-days <n>', 'days of sales an order should cover beyond the reorder point', parseInteger, 30)
    .option('--all', 'list every SKU, not only those to reorder')
    .option('--draft', 'draft purchase orders (one per supplier) for what is listed')
    .option('-l, --location <code>', 'deliver-to location for drafted orders')
    .action(async (opts: { basis: 7 | 30 | 90; coverDays: number; all?: boolean; draft?: boolean; location?: string }) => {
      const [{ draftPurchaseOrders, forecast }, { locationIdOf }] = await Promise.all([import('./forecast.ts'), ledger()]);
      await withApp(async (app) => {
        const items = await forecast(app.db, { basis: opts.basis, coverDays: opts.coverDays });
        const shown = opts.all ? items : items.filter((i) => i.reorder);
        if (shown.length === 0) return void console.log('nothing to reorder');
        printTable(
          ['SKU', 'supplier', '7d/d', '30d/d', '90d/d', 'avail', 'on order', 'cover (d)', 'lead', 'reorder pt', 'order'],
          shown.map((i) => [i.sku, i.supplier ?? '-', i.velocity.d7.toFixed(2), i.velocity.d30.toFixed(2), i.velocity.d90.toFixed(2),
            i.available, i.onOrder, i.daysOfCover === null ? '-' : i.daysOfCover.toFixed(1), i.leadTimeDays, i.reorderPoint, i.suggestedQuantity || '-']),
        );
        if (opts.draft) {
          const locationId = opts.location ? await locationIdOf(app.db, opts.location) : null;
          const drafted = await draftPurchaseOrders(app.db, items, locationId);
          for (const d of drafted) console.log(`drafted purchase order ${d.purchaseOrderId}: ${d.lines.map((l) => `${l.quantity} x ${l.sku}`).join(', ')}`);
        }
      });
    });

  stock
    .command('rule')
    .description('what a channel is shown: a safety buffer, a share, a maximum, a set of locations')
    .argument('<channel>', 'channel id or name')
    .argument('[sku]', 'for one listing only (default: the whole channel)')
    .option('--buffer <n>', 'units held back', parseInteger)
    .option('--share <percent>', 'share of what is left, 0-100', parsePercent)
    .option('--max <n>', 'never show more than this', parseInteger)
    .option('--locations <codes>', 'comma-separated location codes whose stock counts')
    .option('--clear', 'remove the rule')
    .action(async (ref: string, sku: string | undefined, opts: { buffer?: number; share?: number; max?: number; locations?: string; clear?: boolean }) => {
      const [{ sql }, { locationIdOf, skuIdOf }, { kickStockPushes }, { resolveChannelId }] = await Promise.all([import('kysely'), ledger(), outbox(), channels()]);
      await withApp(async (app) => {
        const channelId = await resolveChannelId(app.db, ref);
        const skuId = sku ? await skuIdOf(app.db, sku) : null;
        if (opts.clear) {
          await app.db.deleteFrom('stock_rules').where('channel_id', '=', channelId).where('sku_id', skuId === null ? 'is' : '=', skuId).execute();
        } else {
          const locationIds = opts.locations ? await Promise.all(opts.locations.split(',').map((c) => locationIdOf(app.db, c.trim()))) : null;
          await sql`
            INSERT INTO stock_rules (channel_id, sku_id, buffer, share_percent, max_shown, location_ids)
            VALUES (${channelId}, ${skuId}, ${opts.buffer ?? null}, ${opts.share ?? null}, ${opts.max ?? null}, ${locationIds}::bigint[])
            ON CONFLICT (channel_id, sku_id) DO UPDATE SET
              buffer = COALESCE(EXCLUDED.buffer, stock_rules.buffer),
              share_percent = COALESCE(EXCLUDED.share_percent, stock_rules.share_percent),
              max_shown = COALESCE(EXCLUDED.max_shown, stock_rules.max_shown),
              location_ids = COALESCE(EXCLUDED.location_ids, stock_rules.location_ids),
              updated_at = now()`.execute(app.db);
        }
        // Every listing the rule touches is owed a push of its new quantity.
        const affected = await app.db.selectFrom('channel_listings').select('sku_id').where('channel_id', '=', channelId)
          .$if(skuId !== null, (q) => q.where('sku_id', '=', skuId!)).execute();
        await kickStockPushes(app, affected.map((a) => a.sku_id));
        console.log(`${opts.clear ? 'cleared' : 'set'} the rule; ${affected.length} listings will be pushed`);
      });
    });

  program
    .command('listings')
    .description("a channel's products and variants, linked to SKUs")
    .command('sync')
    .description("import the channel's products and variants and link them to SKUs (creating SKUs as needed)")
    .argument('<channel>', 'channel id or name')
    .option('--import-stock', "take the channel's quantities as opening stock for SKUs channelsync has no stock for yet (at the default location)")
    .action(async (ref: string, opts: { importStock?: boolean }) => {
      const [{ syncListings }, { resolveChannelId }, { defaultLocationCreatedMessage }] = await Promise.all([
        import('./listings.ts'),
        channels(),
        import('../locations/index.ts'),
      ]);
      await withApp(async (app) => {
        const channelId = await resolveChannelId(app.db, ref);
        const r = await syncListings(app, channelId, {
          importStock: opts.importStock,
          actor: `cli:${process.env.USER ?? 'unknown'}`,
          onPage: (p) => progressLine(`listings read: ${p.listings}`),
        });
        progressDone();
        if (r.location?.created) console.log(defaultLocationCreatedMessage(r.location.code));
        console.log(`${r.listings} listings (${r.linked} new), ${r.skusCreated} SKUs created, ${r.orderLinesLinked} order lines linked` +
          (r.withoutSku ? `; ${r.withoutSku} products without a SKU were skipped (give them one on the channel)` : ''));
        if (opts.importStock) {
          console.log(`opening stock: ${r.stockImported} SKUs set to the channel's quantity at ${r.location!.code}` +
            (r.stockKept ? `, ${r.stockKept} already had stock in channelsync and were left as they are` : '') +
            (r.stockUntracked ? `, ${r.stockUntracked} not tracked by the channel` : ''));
        }
        if (r.notInitialised > 0) {
          console.log(`${opts.importStock ? '' : 'stock was not imported: '}${r.notInitialised} listed SKUs have no stock in channelsync, ` +
            'so nothing is pushed to them and reconciliation leaves the store\'s numbers alone until their stock is set ' +
            '(rerun with --import-stock to take the channel\'s quantities, or "channelsync stock adjust <sku> <n> --count")');
        }
      });
    });

  program
    .command('reconcile')
    .description('compare every channel\'s stock with the ledger, correct it and record the drift')
    .option('--now', 'run it now in this process (otherwise it runs on RECONCILE_CRON in the daemon)')
    .option('-c, --channel <channel>', 'only this channel')
    .action(async (opts: { now?: boolean; channel?: string }) => {
      if (!opts.now) {
        console.log('reconciliation runs in the daemon on RECONCILE_CRON; use --now to run it here');
        return;
      }
      const [{ reconcile }, { resolveChannelId }] = await Promise.all([import('./reconcile.ts'), channels()]);
      await withApp(async (app) => {
        const channelIds = opts.channel ? [await resolveChannelId(app.db, opts.channel)] : undefined;
        const progress = new Map<number, ReconcileProgress>();
        const started = Date.now();
        const report = await reconcile(app, {
          slot: `manual-${new Date().toISOString()}`,
          channelIds,
          catchUp: async (channelId) => (await import('../../jobs/sync-orders.ts')).syncOrders(app, channelId),
          onProgress: (p) => {
            progress.set(p.channelId, p);
            const all = [...progress.values()];
            const read = all.reduce((a, x) => a + x.read, 0);
            const total = all.reduce((a, x) => a + x.total, 0);
            progressLine(`${bar(read / Math.max(1, total))} ${read}/${total} listings, ${all.reduce((a, x) => a + x.drift, 0)} drift, ${((Date.now() - started) / 1000).toFixed(1)} s`);
          },
        });
        progressDone();
        for (const c of report.channels) {
          if (c.skipped) {
            console.log(`channel ${c.channelId}: skipped, ${c.skipped}`);
            continue;
          }
          console.log(`channel ${c.channelId}: ${c.listings} listings, ${c.drift} drifted, ${c.corrected} corrected${c.failed ? `, ${c.failed} refused` : ''}` +
            `${c.notInitialised ? `, ${c.notInitialised} not initialised (no stock in channelsync: left alone)` : ''}` +
            `${c.held ? `, ${c.held} held (the store shows less: its orders may not be pulled yet; compared again next run)` : ''} (${(c.ms / 1000).toFixed(1)} s)`);
        }
        if (report.channels.length === 0) console.log('no enabled channel has listings: run "channelsync listings sync <channel>" first');
      });
    });
}

function printTable(head: string[], rows: Array<Array<string | number>>): void {
  const cells = [head, ...rows.map((r) => r.map(String))];
  const widths = head.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  for (const r of cells) console.log(r.map((c, i) => (typeof rows[0]?.[i] === 'number' ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd());
}

function signed(n: number): string {
  return n > 0 ? `+${n}` : String(n);
}

function parseInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('must be a whole number');
  return n;
}

function parsePercent(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 100) throw new InvalidArgumentError('must be a percentage from 0 to 100');
  return n;
}

function parseBasis(value: string): 7 | 30 | 90 {
  if (value === '7' || value === '30' || value === '90') return Number(value) as 7 | 30 | 90;
  throw new InvalidArgumentError('must be 7, 30 or 90');
}

function parseSince(value: string): Date {
  const m = /^(\d+)([hd])$/.exec(value);
  if (m) return new Date(Date.now() - Number(m[1]) * (m[2] === 'h' ? 3_600_000 : 86_400_000));
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new InvalidArgumentError('must be an ISO date or a duration like 24h or 7d');
  return d;
}
