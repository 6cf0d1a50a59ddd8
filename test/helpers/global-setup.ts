import { ensureTemplate } from './services.ts';
import { ensureEmbeddedTemplate } from './embedded.ts';

/** Migrates the template databases (Postgres, and embedded PGlite) once before the files run in parallel. */
export default async function setup(): Promise<void> {
  await Promise.all([ensureTemplate(), ensureEmbeddedTemplate()]);
}
