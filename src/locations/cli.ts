/**
 * `channelsync locations add|list|update|deactivate`: the warehouses and
 * shops stock is counted at. Registered by src/cli.ts.
 *
 * Loads fast: only commander at the top; the app, the database and the
 * domain code are imported inside each action.
 */
import { InvalidArgumentError, type Command } from 'commander';
import type { App } from '../app.ts';

type WithApp = (fn: (app: App) => Promise<void>) => Promise<void>;

/**
 * Adds the `locations` command group. `withApp` defaults to building the app
 * from the environment (embedded when no service answers), as every command does.
 */
export function registerLocationCommands(program: Command, withApp: WithApp = withEnvApp): void {
  const locations = program.command('locations').description('warehouses and shops where stock is counted: add, list, update, deactivate');

  locations
    .command('list')
    .description('every location with its stock (active first, by priority)')
    .option('--active', 'only active locations')
    .action(async (opts: { active?: boolean }) => {
      await withApp(async (app) => {
        const { listLocations } = await import('./index.ts');
        const rows = await listLocations(app.db, { includeInactive: !opts.active });
        if (rows.length === 0) return void console.log('no locations yet: add one with "channelsync locations add <code>"');
        printTable(['code', 'name', 'status', 'priority', 'on hand', 'reserved'],
          rows.map((l) => [l.code, l.name, l.active ? 'active' : 'inactive', l.priority, l.onHand, l.reserved]));
      });
    });

  locations
    .command('add')
    .description('add a location (allocation prefers the lowest priority)')
    .argument('<code>', 'short unique code, e.g. LDN-1')
    .option('--name <name>', 'a human name (default: the code)')
    .option('--priority <n>', 'allocation order, lower first (default 100)', parsePriority)
    .action(async (code: string, opts: { name?: string; priority?: number }) => {
      await withApp(async (app) => {
        const { addLocation } = await import('./index.ts');
        const l = await addLocation(app.db, { code, name: opts.name, priority: opts.priority });
        console.log(`added location ${l.code} ("${l.name}", priority ${l.priority})`);
      });
    });

  locations
    .command('update')
    .description("change a location's name or priority, or activate it again")
    .argument('<code>', 'location code')
    .option('--name <name>', 'new name')
    .option('--priority <n>', 'new priority, lower first', parsePriority)
    .option('--activate', 'make an inactive location active again')
    .action(async (code: string, opts: { name?: string; priority?: number; activate?: boolean }) => {
      if (opts.name === undefined && opts.priority === undefined && !opts.activate) {
        throw new InvalidArgumentError('nothing to change: give --name, --priority or --activate');
      }
      await change(withApp, code, { name: opts.name, priority: opts.priority, ...(opts.activate ? { active: true } : {}) });
    });

  locations
    .command('deactivate')
    .description('stop counting a location: its stock leaves allocation and what channels are shown (refused while units are reserved there)')
    .argument('<code>', 'location code')
    .action(async (code: string) => change(withApp, code, { active: false }));
}

async function change(withApp: WithApp, code: string, c: { name?: string; priority?: number; active?: boolean }): Promise<void> {
  await withApp(async (app) => {
    const { updateLocation } = await import('./index.ts');
    const { ConfigError } = await import('../domain/errors.ts');
    const result = await updateLocation(app.db, code, c);
    if (!result) throw new ConfigError(`unknown location "${code}" (see "channelsync locations list")`);
    const { location: l, skuIds } = result;
    if (skuIds.length) {
      // Its stock now counts (or no longer does) for every channel listing these SKUs.
      const { kickStockPushes } = await import('../outbox/index.ts');
      await kickStockPushes(app, skuIds);
    }
    console.log(`location ${l.code}: "${l.name}", priority ${l.priority}, ${l.active ? 'active' : 'inactive'}` +
      (skuIds.length ? `; ${skuIds.length} SKUs will be pushed to their channels` : ''));
  });
}

async function withEnvApp(fn: (app: App) => Promise<void>): Promise<void> {
  const [{ resolveRuntime }, { loadConfig }, { createApp }, { createLogger }] = await Promise.all([
    import('../embedded/runtime.ts'), import('../config.ts'), import('../app.ts'), import('../log.ts'),
  ]);
  const runtime = await resolveRuntime(process.env);
  const config = loadConfig(runtime.env);
  const app = await createApp(config, { log: createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel), embedded: runtime.embedded });
  try {
    await fn(app);
  } finally {
    await app.close();
  }
}

function parsePriority(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 1_000_000) throw new InvalidArgumentError('must be a whole number from 0 to 1000000');
  return n;
}

function printTable(head: string[], rows: Array<Array<string | number>>): void {
  const cells = [head, ...rows.map((r) => r.map(String))];
  const widths = head.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  for (const r of cells) console.log(r.map((c, i) => (typeof rows[0]?.[i] === 'number' ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd());
}
