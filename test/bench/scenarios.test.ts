/**
 * The bench's table (bench/): every row of issue #18 has a scenario, rows
 * say whether a target was met the way the target reads, and a missing
 * marketplace benchmark is a row, not a silence. `npm run bench -- --quick`
 * itself takes minutes on a loaded 2-core machine, too long for the suite;
 * these checks take a second.
 */
import { describe, expect, it } from 'vitest';
import { SCENARIOS } from '../../bench/scenarios.ts';
import { atLeast, atMost, median } from '../../bench/rows.ts';

const ISSUE_ROWS = ['ingest', 'shopify-pull', 'shopify-push', 'woocommerce-pull', 'marketplaces', 'fulfilment', 'reconcile', 'webhooks', 'memory', 'cli', 'console', 'console-pages', 'scale-out'];

describe('the bench', () => {
  it('has a scenario for every row of the issue, each module answering to its id', async () => {
    expect(Object.keys(SCENARIOS)).toEqual(ISSUE_ROWS);
    for (const [id, load] of Object.entries(SCENARIOS)) expect((await load()).default.id).toBe(id);
  });

  it('judges a row by its target: lower-is-better, higher-is-better, absolute', () => {
    const common = { figure: 'x', unit: 's', floorWhat: 'y' };
    expect(atMost({ ...common, value: 10.9, floor: 10, max: 1.1 }).met).toBe(true);
    expect(atMost({ ...common, value: 11.1, floor: 10, max: 1.1 }).met).toBe(false);
    // A floor of 0 gives no ratio, and a target on the ratio cannot be met by it.
    expect(atMost({ ...common, value: 1, floor: 0, max: 1.1 })).toMatchObject({ ratio: null, met: false });
    expect(atMost({ ...common, value: 600, floor: 100, absMax: 500 }).met).toBe(false);
    expect(atLeast({ ...common, value: 4000, floor: 6000, min: 0.5, absMin: 5000 }).met).toBe(false);
    expect(atLeast({ ...common, value: 5200, floor: 6000, min: 0.5, absMin: 5000 }).met).toBe(true);
    expect(median([3, 1, 2])).toBe(2);
  });

  // When a marketplace connector lands it registers its pull in bench/marketplaces.ts, and this
  // test then expects its row (the unregistered case is a row that is not met).
  it('says "no marketplace connector yet" while none is registered, instead of a number', async () => {
    const rows = await (await SCENARIOS.marketplaces!()).default.run({ quick: true, progress: () => {} });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ value: null, met: null, note: 'no marketplace connector yet' });
  });
});
