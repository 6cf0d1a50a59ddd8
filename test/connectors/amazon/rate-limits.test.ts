/** The usage plans compiled into the connector are Amazon's (fixtures/amazon/rate-limits.json). */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { OPERATION_LIMITS } from '../../../connectors/amazon/rate-limits.ts';

const table = JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../../../../shared/fixtures/amazon/rate-limits.json'), 'utf8')) as {
  operations: Array<{ operationId: string; method: string; path: string; ratePerSecond: number | null; burst: number | null }>;
};

it('has the rate, burst, method and path of every operation it calls as Amazon publishes them', () => {
  for (const [name, limit] of Object.entries(OPERATION_LIMITS)) {
    const id = name === 'getOrderV2026' ? 'getOrder' : name;
    const row = table.operations.find((o) => o.operationId === id && o.path === limit.path);
    expect(row, name).toBeDefined();
    expect({ method: limit.method, rate: limit.rate, burst: limit.burst }, name).toEqual({ method: row!.method, rate: row!.ratePerSecond, burst: row!.burst });
  }
});
