/**
 * A clone of the repository alone (no `../shared` beside it, as on a
 * merchant's machine or in the Docker image) runs the product: the Shopify
 * simulator starts and answers a GraphQL request from its shipped schema.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { simulatorRequest } from '../../connectors/shopify/simulator/admin-client.ts';

const repo = join(import.meta.dirname, '../..');
const root = mkdtempSync(join(tmpdir(), 'cs-clone-'));
const clone = join(root, 'channelsync');
let child: ChildProcess | undefined;

afterAll(() => {
  child?.kill('SIGTERM');
  rmSync(root, { recursive: true, force: true });
});

it('a clone with no ../shared runs `channelsync simulate shopify`', async () => {
  // The files a clone would have: tracked ones, plus new ones not yet committed (not ignored).
  const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: repo, encoding: 'utf8' })
    .split('\0')
    .filter((f) => f && f !== 'node_modules' && existsSync(join(repo, f)));
  for (const f of files) {
    mkdirSync(dirname(join(clone, f)), { recursive: true });
    cpSync(join(repo, f), join(clone, f));
  }
  symlinkSync(realpathSync(join(repo, 'node_modules')), join(clone, 'node_modules'));
  expect(existsSync(join(clone, '../shared'))).toBe(false);

  child = spawn(process.execPath, [join(clone, 'bin/channelsync.js'), 'simulate', 'shopify', '--json', '--orders', '2'], {
    cwd: clone,
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn' },
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const line = await new Promise<string>((resolve, reject) => {
    child!.stdout!.once('data', (d) => resolve(String(d)));
    child!.once('exit', (code) => reject(new Error(`simulate exited ${code}: ${stderr}`)));
  });
  const sim = JSON.parse(line) as { url: string; settings: { caCertificate: string; apiVersion: string }; credentials: { accessToken: string } };
  const res = await simulatorRequest<{ data: { orders: { nodes: Array<{ name: string }> } } }>(
    `${sim.url}/admin/api/${sim.settings.apiVersion}/graphql.json`,
    sim.settings.caCertificate,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-shopify-access-token': sim.credentials.accessToken },
      body: JSON.stringify({ query: '{ orders(first: 5) { nodes { name } } }' }),
    },
  );
  expect(res.status).toBe(200);
  expect(res.body.data.orders.nodes).toHaveLength(2);
  expect(stderr).toBe('');
});
