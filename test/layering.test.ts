/**
 * Dependencies run one way: jobs -> domain -> db. Domain code (fulfilment,
 * stock, outbox, the unified model) and the database layer never import a job
 * module: owing a push or a step is a domain operation, and a job only calls
 * the domain. The outer layers (CLI, daemon, HTTP server, demo) may use both.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const INNER = ['src/domain', 'src/db', 'src/fulfilment', 'src/stock', 'src/outbox', 'src/queue', 'src/notify', 'src/feedback'];

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

describe('layering', () => {
  it('keeps domain and database code free of job imports', () => {
    const offenders: string[] = [];
    for (const dir of INNER) {
      for (const file of files(join(ROOT, dir))) {
        // Command-line modules are the outer layer, whichever folder holds them.
        if (file.endsWith('/cli.ts')) continue;
        const source = readFileSync(file, 'utf8');
        for (const match of source.matchAll(/^\s*(?:import|export)[^'"]*from\s+['"]([^'"]+)['"]/gm)) {
          if (/(^|\/)jobs\//.test(match[1]!)) offenders.push(`${relative(ROOT, file)} imports ${match[1]}`);
        }
      }
    }
    expect(offenders).toEqual([]);
  });
});
