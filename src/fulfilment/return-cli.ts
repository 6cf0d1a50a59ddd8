/**
 * `channelsync return <order> --line SKU=qty [--no-restock] [--reason] [--ref]`:
 * book in goods a customer sent back. Registered on the program by src/cli.ts.
 */
import { InvalidArgumentError, type Command } from 'commander';
import type { App } from '../app.ts';
import { actor, resolveOrder } from './cli.ts';
import type { ReturnLineInput } from './returns.ts';

type WithApp = (fn: (app: App) => Promise<void>) => Promise<void>;

interface ReturnCliOptions {
  line: ReturnLineInput[];
  restock: boolean;
  reason?: string;
  ref?: string;
}

export function registerReturnCommands(program: Command, withApp: WithApp): void {
  program
    .command('return')
    .description('book in goods a customer sent back; restocked (default) at the location they were shipped from')
    .argument('<order>', 'order id, or the order number the customer sees ("#1001")')
    .requiredOption('--line <sku=qty>', 'a returned SKU and quantity, e.g. MUG-RED=2 (repeatable)', collectLine)
    .option('--no-restock', 'record the return without putting the goods back on the shelf (damaged, kept for inspection)')
    .option('--reason <text>', 'why it came back, kept in the order history')
    .option('--ref <reference>', 'your reference, e.g. an RMA number: the same reference twice records one return')
    .action(async (ref: string, opts: ReturnCliOptions) => {
      // Loaded here, not at the top: registration stays light (see src/cli.ts).
      const { recordReturn } = await import('./returns.ts');
      await withApp(async (app) => {
        const orderId = await resolveOrder(app, ref);
        const r = await recordReturn(app, orderId, opts.line, { restock: opts.restock, reason: opts.reason, reference: opts.ref }, { ...actor(), reason: opts.reason ?? null });
        const lines = r.lines.map((l) => `${l.quantity} x ${l.sku ?? `line ${l.orderLineId}`}`).join(', ');
        console.log(`${r.created ? 'recorded' : 'already recorded'}: return ${r.returnId} of order ${ref}${r.reference ? ` (${r.reference})` : ''}, ${r.status}: ${lines}`);
      });
    });
}

function collectLine(value: string, previous: ReturnLineInput[] | undefined): ReturnLineInput[] {
  const m = /^(.+)=(\d+)$/.exec(value);
  if (!m) throw new InvalidArgumentError(`expected SKU=quantity, got "${value}"`);
  return [...(previous ?? []), { sku: m[1]!, quantity: Number(m[2]) }];
}
