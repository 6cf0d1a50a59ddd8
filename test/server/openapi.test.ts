/**
 * docs/openapi.json is what the code generates: the admin API's routes and
 * their zod inputs (path, query, body), with the prose the file keeps. A route
 * or input changed without `npm run openapi` fails here, naming the difference.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generateOpenapi } from '../../src/server/admin/api/generate-openapi.ts';
import { OPENAPI_PATH } from '../../src/server/admin/api/index.ts';

describe('the OpenAPI document', () => {
  it('is current with the routes and their inputs (run `npm run openapi` after changing a route)', async () => {
    const generated = JSON.parse(await generateOpenapi());
    expect(JSON.parse(readFileSync(OPENAPI_PATH, 'utf8'))).toEqual(generated);
  });

  it('takes each input from the zod schema the handler validates with, and keeps the prose', async () => {
    const doc = JSON.parse(await generateOpenapi());
    const list = doc.paths['/api/orders'].get;
    expect(list.summary).toBeTruthy();
    const q = list.parameters.find((p: { name: string }) => p.name === 'q');
    expect(q).toMatchObject({ in: 'query', required: false, schema: { type: 'string', minLength: 1, maxLength: 200 } });
    expect(q.description).toBeTruthy();
    const ret = doc.paths['/api/orders/{id}/returns'].post;
    expect(ret.parameters).toEqual([expect.objectContaining({ name: 'id', in: 'path', required: true })]);
    expect(ret.requestBody.content['application/json'].schema).toMatchObject({ type: 'object', required: ['lines'], additionalProperties: false });
    expect(Object.keys(ret.requestBody.content['application/json'].schema.properties).sort()).toEqual(['lines', 'reason', 'reference', 'restock']);
  });
});
