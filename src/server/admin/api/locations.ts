/**
 * GET   /api/locations                  every location with its stock totals
 * POST  /api/locations                  add one (409 when the code exists)
 * GET   /api/locations/:code            one location
 * PATCH /api/locations/:code            name, priority, active (409 when deactivating is refused)
 * POST  /api/locations/:code/deactivate deactivate (409: the last active one, or units reserved there)
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { App } from '../../../app.ts';
import { addLocation, getLocation, listLocations, updateLocation, type LocationChange } from '../../../locations/index.ts';
import { kickStockPushes } from '../../../outbox/index.ts';
import { ApiError, parse, documented } from './validate.ts';

const code = z.string().trim().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'must be 1-64 letters, digits, "-", "_" or "."');
const priority = z.number().int().min(0).max(1_000_000);
const name = z.string().trim().min(1).max(200);
const codeParams = z.object({ code });
const listQuery = z.object({ active: z.enum(['true', 'false']).transform((v) => v === 'true').optional() });
const addBody = z.object({ code, name: name.optional(), priority: priority.optional() }).strict();
const patchBody = z
  .object({ name: name.optional(), priority: priority.optional(), active: z.boolean().optional() })
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'give at least one of name, priority, active');

export function locationRoutes(server: FastifyInstance, app: App): void {
  server.get('/api/locations', documented({ query: listQuery }), async (request) => {
    const { active } = parse(listQuery, request.query, 'query');
    return { items: await listLocations(app.db, { includeInactive: active !== true }) };
  });

  server.post('/api/locations', documented({ body: addBody }), async (request, reply) => {
    const body = parse(addBody, request.body, 'body');
    return reply.code(201).send(await addLocation(app.db, body));
  });

  server.get('/api/locations/:code', documented({ params: codeParams }), async (request) => {
    const { code: c } = parse(codeParams, request.params, 'path');
    const location = await getLocation(app.db, c);
    if (!location) throw new ApiError(404, `location "${c}" does not exist`);
    return location;
  });

  const change = async (c: string, body: LocationChange) => {
    const result = await updateLocation(app.db, c, body);
    if (!result) throw new ApiError(404, `location "${c}" does not exist`);
    // Its stock now counts, or no longer does, for the channels listing these SKUs.
    await kickStockPushes(app, result.skuIds);
    return result.location;
  };

  server.patch('/api/locations/:code', documented({ params: codeParams, body: patchBody }), async (request) => {
    const { code: c } = parse(codeParams, request.params, 'path');
    return change(c, parse(patchBody, request.body, 'body'));
  });

  server.post('/api/locations/:code/deactivate', documented({ params: codeParams }), async (request) => {
    const { code: c } = parse(codeParams, request.params, 'path');
    return change(c, { active: false });
  });
}
