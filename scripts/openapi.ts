/**
 * `npm run openapi`: rewrites docs/openapi.json from the admin API's routes and
 * their zod inputs, keeping the prose the file already has (see
 * src/server/admin/api/openapi.ts). Run it after adding or changing a route;
 * test/server/openapi.test.ts fails until the file is current.
 */
import { writeFileSync } from 'node:fs';
import { generateOpenapi } from '../src/server/admin/api/generate-openapi.ts';
import { OPENAPI_PATH } from '../src/server/admin/api/index.ts';

writeFileSync(OPENAPI_PATH, await generateOpenapi());
console.log(`wrote ${OPENAPI_PATH}`);
process.exit(0);
