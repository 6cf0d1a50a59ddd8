/**
 * After-sales commands, registered on the program by src/cli.ts:
 * - `channelsync return <order> --line SKU=qty[:condition] [--no-restock] [--reason] [--ref] [--approve]`:
 *   book in goods a customer sent back, each line restocked, damaged or discarded;
 * - `channelsync return-approve <return> [--refund-shipping]`: refund a return on the order's channel;
 * - `channelsync cancel <order> [--reason]`: cancel an unshipped order here and on its channel.
 * Their code is loaded inside the actions: registration stays light (test/cli-light.test.ts).
 */
import { InvalidArgumentError, type Command } from 'commander';
import type { App } from '../app.ts';
import type { ReturnCondition } from '../db/schema.ts';
import { actor, resolveOrder } from './cli.ts';
import type { ReturnLineInput } from './returns.ts';

type WithApp = (fn: (app: App) => Promise<void>) => Promise<void>;

interface ReturnCliOptions {
  line: ReturnLineInput[];
  restock: boolean;
  reason?: string;
  ref?: string;
  approve?: boolean;
  refundShipping?: boolean;
}

const CONDITIONS: readonly ReturnCondition[] = ['restock', 'damaged', 'discard'];

export function registerReturnCommands(program: Command, withApp: WithApp): void {
  program
    .command('return')
    .description('book in goods a customer sent back; restocked (default) at the location they were shipped from')
    .argument('<order>', 'order id, or the order number the customer sees ("#1001")')
    .requiredOption(
      '--line <sku=qty[:condition]>',
      'a returned SKU, quantity and condition (restock, damaged: booked in and written off, discard: recorded only), e.g. MUG-RED=1 or MUG-RED=1:damaged (repeatable)',
      collectLine,
    )
    .option('--no-restock', 'lines that name no condition are discarded (recorded only) instead of restocked')
    .option('--reason <text>', 'why it came back, kept in the order history')
    .option('--ref <reference>', 'your reference, e.g. an RMA number: the same reference twice records one return')
    .option('--approve', 'approve it at once: refund the returned units on the order\'s channel')
    .option('--refund-shipping', 'with --approve: refund what is left of the order\'s shipping too')
    .action(async (ref: string, opts: ReturnCliOptions) => {
      const { recordReturn } = await import('./returns.ts');
      await withApp(async (app) => {
        const orderId = await resolveOrder(app, ref);
        const r = await recordReturn(app, orderId, opts.line, { restock: opts.restock, reason: opts.reason, reference: opts.ref }, { ...actor(), reason: opts.reason ?? null });
        const lines = r.lines.map((l) => `${l.quantity} x ${l.sku ?? `line ${l.orderLineId}`}${l.condition === 'restock' ? '' : ` (${l.condition})`}`).join(', ');
        console.log(`${r.created ? 'recorded' : 'already recorded'}: return ${r.returnId} of order ${ref}${r.reference ? ` (${r.reference})` : ''}, ${r.status}: ${lines}`);
        if (opts.approve) await approve(app, r.returnId, opts.refundShipping ?? false, opts.reason);
      });
    });

  program
    .command('return-approve')
    .description('approve a return: refund its units on the order\'s channel, once, never more than was paid')
    .argument('<return>', 'return id (printed by `channelsync return`)', wholeNumber)
    .option('--refund-shipping', 'refund what is left of the order\'s shipping too (a return does not, by default)')
    .option('--reason <text>', 'the refund\'s note on the channel')
    .action(async (returnId: number, opts: { refundShipping?: boolean; reason?: string }) => {
      await withApp((app) => approve(app, returnId, opts.refundShipping ?? false, opts.reason));
    });

  program
    .command('cancel')
    .description('cancel an order that has not shipped: releases its stock everywhere, stops its fulfilment, cancels it on its channel')
    .argument('<order>', 'order id, or the order number the customer sees ("#1001")')
    .option('--reason <text>', 'why, kept in the order history and sent to the channel', 'cancelled in channelsync')
    .action(async (ref: string, opts: { reason: string }) => {
      const { cancelOrderHere } = await import('./cancel.ts');
      await withApp(async (app) => {
        const orderId = await resolveOrder(app, ref);
        const r = await cancelOrderHere(app, orderId, opts.reason, { ...actor(), reason: opts.reason });
        console.log(
          r.cancelled
            ? `cancelled: order ${ref}${r.pushId ? `; push ${r.pushId} cancels it on its channel` : ' (already cancelled on its channel)'}`
            : `already cancelled: order ${ref}`,
        );
      });
    });
}

async function approve(app: App, returnId: number, refundShipping: boolean, reason: string | undefined): Promise<void> {
  const { approveReturn } = await import('./refunds.ts');
  const r = await approveReturn(app, returnId, { refundShipping, reason: reason ?? null }, { ...actor(), reason: reason ?? null });
  console.log(`${r.created ? 'approved' : 'already approved'}: return ${r.returnId}, refund ${r.refundId} of ${r.amount} ${r.currency} (push ${r.pushId} refunds it on the channel)`);
}

function wholeNumber(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 2 ** 53) throw new InvalidArgumentError(`expected an id, got "${value}"`);
  return Number(value);
}

function collectLine(value: string, previous: ReturnLineInput[] | undefined): ReturnLineInput[] {
  const m = /^(.+)=(\d+)(?::(\w+))?$/.exec(value);
  if (!m) throw new InvalidArgumentError(`expected SKU=quantity or SKU=quantity:condition, got "${value}"`);
  const condition = m[3] as ReturnCondition | undefined;
  if (condition !== undefined && !CONDITIONS.includes(condition)) throw new InvalidArgumentError(`condition must be one of ${CONDITIONS.join(', ')}, got "${m[3]}"`);
  return [...(previous ?? []), { sku: m[1]!, quantity: Number(m[2]), ...(condition ? { condition } : {}) }];
}
