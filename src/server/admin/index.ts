/**
 * Everything under /admin and /api: the login form (the only open part),
 * then, behind authentication, the dashboard, the admin API and the queue UI.
 *
 * With no ADMIN_TOKEN and no ADMIN_USER/ADMIN_PASSWORD configured, none of it
 * is registered (every admin URL is a 404) and the log says how to turn it on.
 */
import type { FastifyInstance } from 'fastify';
import type { App } from '../../app.ts';
import { queueUiRoutes } from '../queue-ui.ts';
import { createAdminAuth, loginRoutes } from './auth.ts';
import { dashboardRoutes } from './dashboard.ts';
import { consoleRoutes } from './console.ts';
import { apiRoutes } from './api/index.ts';
import type { LoginLimits } from './login-limiter.ts';

/** URLs reachable without credentials (the login form itself). */
export const PUBLIC_ADMIN_ROUTES = new Set(['GET /admin/login', 'HEAD /admin/login', 'POST /admin/login', 'GET /admin/logout', 'HEAD /admin/logout', 'POST /admin/logout']);

export interface AdminOptions {
  loginLimits?: LoginLimits;
}

export async function adminRoutes(server: FastifyInstance, app: App, options: AdminOptions = {}): Promise<boolean> {
  const auth = createAdminAuth(app, options.loginLimits);
  if (!auth) {
    app.log.warn(
      'admin UI and API are off: set ADMIN_TOKEN (openssl rand -hex 24), or ADMIN_USER and ADMIN_PASSWORD, to open /admin, /admin/queues and /api',
    );
    return false;
  }
  loginRoutes(server, app, auth);
  await server.register(async (secured) => {
    secured.addHook('onRequest', auth.require);
    dashboardRoutes(secured, app);
    consoleRoutes(secured, app);
    await apiRoutes(secured, app);
    await queueUiRoutes(secured, app);
  });
  return true;
}
