import { ensureTemplate } from './services.ts';

/** Migrates the template database once before the files run in parallel. */
export default async function setup(): Promise<void> {
  await ensureTemplate();
}
