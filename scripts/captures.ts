/**
 * `npm run captures -- <folder>`: replay a folder of Shopify captures laid
 * out like ../shared/fixtures/shopify/captures (with documents-index.json)
 * against the simulator, print the per-domain table and end with
 * `captures: N of M equal` (M: captures not on the reviewed out-of-scope list).
 *
 * `--verbose` lists every capture that is not equal with its first difference;
 * `--only <text>` replays the captures whose file name holds <text> and
 * prints every request's outcome.
 */
import path from 'node:path';
import { costs, replayFolder, table } from '../test/captures/replay.ts';

const args = process.argv.slice(2);
const verbose = args.includes('--verbose');
const onlyAt = args.indexOf('--only');
const only = onlyAt >= 0 ? args[onlyAt + 1] : undefined;
const folder = args.find((a, i) => !a.startsWith('--') && (onlyAt < 0 || i !== onlyAt + 1));
if (!folder) {
  console.error('usage: npm run captures -- <folder> [--verbose]');
  process.exit(2);
}
const results = await replayFolder(path.resolve(folder), only ? (f) => f.includes(only) : undefined);
if (only) {
  for (const c of results) {
    console.log(`${c.outcome}  ${c.file}`);
    for (const r of c.requests) console.log(`  ${r.outcome.padEnd(13)} ${r.path} ${r.detail ?? ''} ${r.cost ? `cost ${JSON.stringify(r.cost)}` : ''}`);
  }
}
if (verbose) {
  for (const c of results.filter((r) => r.outcome === 'differs' || r.outcome === 'not supported')) {
    const first = c.requests.find((r) => r.outcome === 'differs') ?? c.requests.find((r) => r.outcome === 'not supported');
    console.log(`${c.outcome.padEnd(13)} ${c.file}  ${first ? `${first.path}: ${first.detail}` : c.reason ?? ''}`);
  }
  console.log('');
}
console.log(table(results));
const c = costs(results);
console.log(`requested cost as Shopify's: ${c.requested[0]} of ${c.requested[1]} requests; actual cost: ${c.actual[0]} of ${c.actual[1]}`);
const inScope = results.filter((r) => r.outcome !== 'out of scope');
console.log(`captures: ${inScope.filter((r) => r.outcome === 'equal').length} of ${inScope.length} equal`);
process.exit(0);
