/**
 * `channelsync --help` answers at once because registering the commands
 * loads nothing heavy: from src/cli.ts, the static (non-type) imports reach
 * only our own light modules, node built-ins and commander. Heavy modules are
 * imported inside actions (convention at the top of src/cli.ts). This follows
 * the import graph, so a command module that imports fastify, kysely or the
 * app at top level fails here, not as a slow CLI later.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { CHANNEL_KINDS } from '../connectors/kinds.ts';
import { connectorFactories } from '../connectors/index.ts';

const ROOT = resolve(import.meta.dirname, '..');
const ALLOWED_PACKAGES = new Set(['commander']);

/** Specifiers a module loads when it is evaluated: value imports and re-exports, not `import type`, not `import()`. */
function staticImports(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022);
  const out: string[] = [];
  for (const st of source.statements) {
    if (ts.isImportDeclaration(st)) {
      const clause = st.importClause;
      if (clause?.isTypeOnly) continue;
      // `import { type A, type B } from` loads nothing either (esbuild and tsc drop it).
      const bindings = clause?.namedBindings;
      if (clause && !clause.name && bindings && ts.isNamedImports(bindings) && bindings.elements.every((e) => e.isTypeOnly)) continue;
      out.push((st.moduleSpecifier as ts.StringLiteral).text);
    } else if (ts.isExportDeclaration(st) && st.moduleSpecifier && !st.isTypeOnly) {
      out.push((st.moduleSpecifier as ts.StringLiteral).text);
    }
  }
  return out;
}

function loadedAtStartup(entry: string): { files: string[]; packages: Map<string, string> } {
  const seen = new Set<string>();
  const packages = new Map<string, string>();
  const queue = [entry];
  while (queue.length) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const spec of staticImports(file)) {
      if (spec.startsWith('.')) queue.push(resolve(dirname(file), spec));
      else if (!spec.startsWith('node:')) packages.set(spec, relative(ROOT, file));
    }
  }
  return { files: [...seen].map((f) => relative(ROOT, f)), packages };
}

describe('CLI start-up', () => {
  it('registering every command loads no package but commander', () => {
    const { files, packages } = loadedAtStartup(join(ROOT, 'src/cli.ts'));
    const heavy = [...packages].filter(([p]) => !ALLOWED_PACKAGES.has(p)).map(([p, from]) => `${p} (imported by ${from})`);
    expect(heavy).toEqual([]);
    // The command modules themselves are registered, so the walk did follow them.
    expect(files).toEqual(expect.arrayContaining(['src/fulfilment/cli.ts', 'src/stock/cli.ts']));
    expect(files).not.toContain('src/app.ts');
  });

  it('the check sees a heavy import (it is real)', () => {
    expect(loadedAtStartup(join(ROOT, 'src/daemon.ts')).packages.has('kysely')).toBe(true);
  });

  it('the kinds named in the help are the registry\'s', () => {
    expect([...CHANNEL_KINDS].sort()).toEqual([...connectorFactories.keys()].sort());
  });
});
