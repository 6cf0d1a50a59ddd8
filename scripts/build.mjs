#!/usr/bin/env node
/**
 * Precompiles the product's TypeScript (src, connectors, jobs) to plain
 * JavaScript in dist/, one file per source file, so bin/channelsync.js starts
 * without tsx's loader (about 0.3 s of CPU per command: a hooks thread, and
 * every module resolved through it). Run by `prepare`, so `npm ci` stays the
 * only install step; plain JS so it needs nothing but esbuild.
 *
 * dist/manifest.json lists every source with its size and mtime. The bin uses
 * dist/ only while all of them are unchanged; after an edit or a checkout it
 * runs the sources through tsx again (slower, never stale) until the next
 * `npm run build`.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist');
const DIRS = ['src', 'connectors', 'jobs'];

if (!existsSync(join(root, 'src/cli.ts'))) {
  // `npm ci` before the sources are there (a Docker layer that copies package.json first).
  console.log('channelsync build: no sources yet, skipped');
  process.exit(0);
}
const { transform } = await import('esbuild');

function* walk(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else yield path;
  }
}

// Relative `.ts` specifiers (static, dynamic, and string constants used as
// specifiers) point at the compiled `.js` files instead.
const rewrite = (code) => code.replace(/(["'])(\.{1,2}\/[^"'\n]*?)\.ts\1/g, '$1$2.js$1');

const started = Date.now();
rmSync(out, { recursive: true, force: true });
const manifest = [];
const jobs = [];
for (const top of DIRS) {
  for (const file of walk(join(root, top))) {
    const rel = relative(root, file);
    const target = join(out, rel);
    mkdirSync(dirname(target), { recursive: true });
    const st = statSync(file);
    if (file.endsWith('.ts')) {
      manifest.push([rel, st.size, st.mtimeMs]);
      jobs.push(
        transform(readFileSync(file, 'utf8'), { loader: 'ts', format: 'esm', target: 'node20', sourcefile: rel }).then((r) =>
          writeFileSync(target.replace(/\.ts$/, '.js'), rewrite(r.code)),
        ),
      );
    } else {
      // Data read beside its module (the trimmed Shopify schema).
      symlinkSync(relative(dirname(target), file), target); // relative: the checkout may move
    }
  }
}
// Modules find docs/ (the OpenAPI file) at the same relative place.
symlinkSync('../docs', join(out, 'docs'));
await Promise.all(jobs);
writeFileSync(join(out, 'manifest.json'), JSON.stringify({ files: manifest }));
console.log(`channelsync build: ${manifest.length} files in ${Date.now() - started} ms -> dist/`);
