/**
 * `opening_balance`: the stock a channel showed when its listings were first
 * imported with `listings sync --import-stock`. A reason of its own, so the
 * first number of every SKU can be told apart from later counts and receipts.
 * The CHECK of 0001_initial is replaced (Postgres cannot add to an IN list).
 *
 * An opening balance may be 0: "the channel showed none" is something
 * channelsync was told, and a SKU with any movement counts as initialised
 * (stock is pushed to it), while one with none is never pushed.
 */
import { sql, type Kysely } from 'kysely';

const BEFORE = `'receipt', 'adjustment', 'count', 'damage', 'reservation', 'release', 'shipment', 'return_restock', 'transfer'`;

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE stock_movements DROP CONSTRAINT stock_movements_reason_check;
    ALTER TABLE stock_movements ADD CONSTRAINT stock_movements_reason_check
      CHECK (reason IN (${sql.raw(BEFORE)}, 'opening_balance'));
    ALTER TABLE stock_movements DROP CONSTRAINT stock_movements_check;
    ALTER TABLE stock_movements ADD CONSTRAINT stock_movements_check
      CHECK (on_hand_delta <> 0 OR reserved_delta <> 0 OR reason = 'opening_balance');
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  // Refused (by the constraint itself) while opening balances exist: the ledger is append-only.
  await sql`
    ALTER TABLE stock_movements DROP CONSTRAINT stock_movements_reason_check;
    ALTER TABLE stock_movements ADD CONSTRAINT stock_movements_reason_check CHECK (reason IN (${sql.raw(BEFORE)}));
    ALTER TABLE stock_movements DROP CONSTRAINT stock_movements_check;
    ALTER TABLE stock_movements ADD CONSTRAINT stock_movements_check CHECK (on_hand_delta <> 0 OR reserved_delta <> 0);
  `.execute(db);
}
