import { describe, expect, it } from 'vitest';
import { aheadByOne } from '../../src/domain/async.ts';

/** A source that logs when each item is asked for and when the source is closed. */
function source(events: string[], n: number) {
  return (async function* () {
    try {
      for (let i = 1; i <= n; i++) {
        events.push(`fetch ${i}`);
        await new Promise((r) => setTimeout(r, 5));
        yield i;
      }
    } finally {
      events.push('closed');
    }
  })();
}

describe('aheadByOne', () => {
  it('fetches the next item while the caller works on this one, and keeps the order', async () => {
    const events: string[] = [];
    const seen: number[] = [];
    for await (const i of aheadByOne(source(events, 3))) {
      events.push(`work ${i} starts`);
      await new Promise((r) => setTimeout(r, 20));
      seen.push(i);
    }
    expect(seen).toEqual([1, 2, 3]);
    // Item 2 is already being fetched when the work on item 1 starts (one at a time, it would come after).
    expect(events.indexOf('fetch 2')).toBeLessThan(events.indexOf('work 1 starts'));
    expect(events).toContain('closed');
  });

  it('closes the source when the caller stops early, and lets a failing fetch surface where it is asked for', async () => {
    const events: string[] = [];
    for await (const i of aheadByOne(source(events, 5))) if (i === 2) break;
    expect(events).toContain('closed');
    expect(events).not.toContain('fetch 4');

    const failing = (async function* () {
      yield 1;
      throw new Error('channel down');
    })();
    const got: number[] = [];
    await expect(async () => {
      for await (const i of aheadByOne(failing)) got.push(i);
    }).rejects.toThrow('channel down');
    expect(got).toEqual([1]);
  });
});
