/**
 * The HTTPS front of the simulator: routing, auth, faults, request log.
 *
 * Routes, as on a real shop:
 * - `POST /admin/api/<version>/graphql.json` with `X-Shopify-Access-Token`
 *   (https://shopify.dev/docs/api/admin-graphql#authentication)
 * - `POST /admin/oauth/access_token`, client-credentials grant
 *   (https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/client-credentials-grant)
 * - `GET /bulk/<id>.jsonl`, the bulk operation result (Shopify serves it from
 *   cloud storage; here it is streamed by the simulator itself).
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { LeakyBucket } from './bucket.ts';
import type { Certificate } from './tls.ts';
import type { Ctx } from './resolvers/context.ts';
import { runGraphQL } from './graphql-endpoint.ts';
import { API_VERSION } from './schema.ts';

/** One request as the simulator saw it (tests assert on these). */
export interface LoggedRequest {
  at: number;
  method: string;
  path: string;
  status: number;
  operationName: string | null;
  requestedCost: number | null;
  actualCost: number | null;
  throttled: boolean;
  /** What fault, if any, was injected. */
  fault: 'error' | 'timeout' | null;
}

export interface ServerFaults {
  errorRate: number;
  timeoutRate: number;
  latencyMs: number;
}

export interface AuthConfig {
  /** The permanent Admin API token (custom app). */
  accessToken: string;
  clientId: string;
  clientSecret: string;
  scope: string;
  /** Lifetime of client-credentials tokens, seconds (Shopify: 86399). */
  tokenTtlSeconds: number;
}

export class SimulatorServer {
  readonly requestLog: LoggedRequest[] = [];
  faults: ServerFaults = { errorRate: 0, timeoutRate: 0, latencyMs: 0 };
  /** Tokens issued by the client-credentials grant, with expiry (ms epoch). */
  readonly issuedTokens = new Map<string, number>();
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private inFlight = 0;

  constructor(
    cert: Certificate,
    private readonly ctx: Ctx,
    private readonly bucket: LeakyBucket,
    private readonly root: Record<string, unknown>,
    readonly auth: AuthConfig,
    private readonly maxConcurrent: number | null,
    private readonly log?: Logger,
  ) {
    this.server = createServer({ key: cert.key, cert: cert.cert }, (req, res) => void this.handle(req, res));
    this.server.on('secureConnection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  async listen(port: number): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => resolve());
    });
    const addr = this.server.address();
    return typeof addr === 'object' && addr ? addr.port : port;
  }

  async close(): Promise<void> {
    // Hung (timeout-fault) requests hold their sockets: drop them all.
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private record(entry: Omit<LoggedRequest, 'at'>): void {
    this.requestLog.push({ at: Date.now(), ...entry });
    if (this.requestLog.length > 100_000) this.requestLog.splice(0, 50_000);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    const method = req.method ?? 'GET';
    const body = await readBody(req);
    const base = { method, path, operationName: null, requestedCost: null, actualCost: null, throttled: false };
    if (this.faults.latencyMs > 0) await new Promise((r) => setTimeout(r, this.faults.latencyMs));
    if (Math.random() < this.faults.timeoutRate) {
      // Never answer: the client must give up on its own.
      this.record({ ...base, status: 0, fault: 'timeout' });
      return;
    }
    if (Math.random() < this.faults.errorRate) {
      const status = Math.random() < 0.5 ? 502 : 503;
      this.record({ ...base, status, fault: 'error' });
      return send(res, status, status === 503 ? { errors: 'Service Unavailable' } : { errors: 'Bad Gateway' });
    }
    if (method === 'POST' && path === '/admin/oauth/access_token') return this.accessToken(req, body, res, base);
    const gql = /^\/admin\/api\/([^/]+)\/graphql\.json$/.exec(path);
    if (gql && method === 'POST') return this.graphql(req, body, res, base);
    const bulk = /^\/bulk\/(\d+)\.jsonl$/.exec(path);
    if (bulk && method === 'GET') return this.bulkFile(Number(bulk[1]), res, base);
    this.record({ ...base, status: 404, fault: null });
    return send(res, 404, { errors: 'Not Found' });
  }

  private tokenValid(token: string | undefined): boolean {
    if (!token) return false;
    if (token === this.auth.accessToken) return true;
    const exp = this.issuedTokens.get(token);
    return exp !== undefined && exp > Date.now();
  }

  private graphql(req: IncomingMessage, raw: Buffer, res: ServerResponse, base: Omit<LoggedRequest, 'at' | 'status' | 'fault'>): void {
    const token = header(req, 'x-shopify-access-token');
    if (!this.tokenValid(token)) {
      this.record({ ...base, status: 401, fault: null });
      return send(res, 401, { errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' });
    }
    if (this.maxConcurrent !== null && this.inFlight >= this.maxConcurrent) {
      this.record({ ...base, status: 429, fault: null });
      return send(res, 429, { errors: 'Exceeded concurrent request limit' }, { 'retry-after': '1' });
    }
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(raw.toString('utf8') || '{}') as Record<string, unknown>;
    } catch {
      this.record({ ...base, status: 400, fault: null });
      return send(res, 400, { errors: { query: 'Required parameter missing or invalid' } });
    }
    this.inFlight++;
    try {
      const out = runGraphQL(parsed, this.ctx, this.bucket, this.root);
      this.record({ ...base, status: 200, fault: null, operationName: out.operationName, requestedCost: out.requestedCost, actualCost: out.actualCost, throttled: out.throttled });
      send(res, 200, out.body);
    } catch (err) {
      this.log?.error({ err }, 'simulator failed a request');
      this.record({ ...base, status: 500, fault: null });
      send(res, 200, { errors: [{ message: `Internal error. Looks like something went wrong on our end.\nRequest ID: ${randomBytes(8).toString('hex')} (include this in support requests).`, extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
    } finally {
      this.inFlight--;
    }
  }

  private accessToken(req: IncomingMessage, raw: Buffer, res: ServerResponse, base: Omit<LoggedRequest, 'at' | 'status' | 'fault'>): void {
    const type = header(req, 'content-type') ?? '';
    let params: Record<string, string> = {};
    try {
      params = type.includes('json')
        ? (JSON.parse(raw.toString('utf8')) as Record<string, string>)
        : Object.fromEntries(new URLSearchParams(raw.toString('utf8')));
    } catch {
      params = {};
    }
    if (params.grant_type !== 'client_credentials') {
      this.record({ ...base, status: 400, fault: null });
      return send(res, 400, { error: 'unsupported_grant_type', error_description: 'The authorization grant type is not supported by the authorization server.' });
    }
    if (params.client_id !== this.auth.clientId || params.client_secret !== this.auth.clientSecret) {
      this.record({ ...base, status: 401, fault: null });
      return send(res, 401, { error: 'invalid_client', error_description: 'Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.' });
    }
    const token = `shpat_${randomBytes(16).toString('hex')}`;
    this.issuedTokens.set(token, Date.now() + this.auth.tokenTtlSeconds * 1000);
    this.record({ ...base, status: 200, fault: null });
    send(res, 200, { access_token: token, scope: this.auth.scope, expires_in: this.auth.tokenTtlSeconds });
  }

  private bulkFile(id: number, res: ServerResponse, base: Omit<LoggedRequest, 'at' | 'status' | 'fault'>): void {
    const op = this.ctx.bulk.operations.get(id);
    if (!op?.file) {
      this.record({ ...base, status: 404, fault: null });
      return send(res, 404, { errors: 'Not Found' });
    }
    this.record({ ...base, status: 200, fault: null });
    res.writeHead(200, { 'content-type': 'application/jsonl', 'content-length': String(op.fileSize ?? 0) });
    // Piece by piece (a page of orders each), honouring backpressure: files can be large.
    const pieces = op.file;
    let i = 0;
    const pump = () => {
      while (i < pieces.length) {
        if (!res.write(pieces[i++])) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'x-shopify-api-version': API_VERSION, 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}
