#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx, so `npm ci` needs no build
// step and `npx channelsync` always runs the code that is checked out.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli.ts');
