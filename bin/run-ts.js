#!/usr/bin/env node
// Runs one TypeScript entry point (used by `npm run bench`): node bin/run-ts.js <file.ts> [args]
import { register } from 'tsx/esm/api';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

register();
const entry = process.argv[2];
if (!entry) {
  console.error('usage: node bin/run-ts.js <file.ts> [args...]');
  process.exit(2);
}
// As if node ran the entry itself: argv[1] is the script, its arguments follow.
process.argv.splice(1, 2, resolve(entry));
await import(pathToFileURL(resolve(entry)).href);
