/**
 * The simulator's HTTP side: Login with Amazon, the SP-API operations the
 * connector uses, pre-signed document URLs, and the two SQS actions, on one
 * port. It answers as the models say (see fixtures/amazon/README.md, "What a
 * faithful simulator must enforce"): errors in `{errors:[{code,message,details}]}`,
 * `x-amzn-RequestId` on every answer, `x-amzn-RateLimit-Limit` on 200/204/400/404
 * only, a token bucket per operation (rate-limits.ts) answering 429
 * QuotaExceeded, InvalidInput for the rules of getOrders, PII only with a
 * Restricted Data Token, feeds processed later.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { OPERATION_LIMITS, type OperationName } from '../rate-limits.ts';
import type { FaultSettings } from '../../types.ts';
import { AmazonState, SIM_SELLER, type SimOrder } from './state.ts';
import { matchSandbox, sandboxRoute } from './sandbox.ts';
import { HttpAnswer, MSG, amazonError, invalidInput } from './answers.ts';
import { operate } from './operations.ts';
import { processFeed } from './feeds.ts';

export interface AmazonSimConfig {
  clientId: string;
  clientSecret: string;
  refreshToken: string;
  awsAccessKeyId: string;
  /** Rate and burst per operation; Amazon's defaults when unset. */
  limits?: Partial<Record<OperationName, { rate: number; burst: number }>>;
  /** Static sandbox mode: only the models' x-amzn-api-sandbox cases answer. */
  sandbox?: boolean;
  /** Ms a feed stays IN_QUEUE, then IN_PROGRESS. Default 200 each. */
  feedDelayMs?: number;
  /** Pretend the app has no PII role: createRestrictedDataToken answers 403. */
  denyRdt?: boolean;
  log?: Logger;
}

interface Bucket {
  level: number;
  at: number;
}

interface Route {
  op: OperationName;
  method: string;
  pattern: RegExp;
  names: string[];
}

const ROUTES: Route[] = (Object.entries(OPERATION_LIMITS) as Array<[OperationName, (typeof OPERATION_LIMITS)[OperationName]]>).map(([op, spec]) => {
  const names: string[] = [];
  const pattern = new RegExp(`^${spec.path.replace(/\{(\w+)\}/g, (_, n: string) => (names.push(n), '([^/]+)'))}$`);
  return { op, method: spec.method, pattern, names };
});

export interface Request {
  op: OperationName;
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
  /** The resources the RDT sent grants, when one was sent. */
  rdt: Array<{ method: string; path: string; dataElements?: string[] }> | null;
  path: string;
}

export class AmazonSimServer {
  readonly state = new AmazonState();
  private server: Server | null = null;
  private readonly buckets = new Map<OperationName, Bucket>();
  private readonly accessTokens = new Map<string, number>();
  private readonly rdts = new Map<string, { expires: number; resources: Request['rdt'] }>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly hanging = new Set<ServerResponse>();
  /** Receipt handles of deleted messages (deleting twice succeeds, as on SQS). */
  private readonly deleted = new Set<string>();
  faults: FaultSettings = {};
  url = '';
  /** Every SP-API request that reached an operation, for tests (op, query, body). */
  readonly calls: Array<{ op: string; query: Record<string, string>; body: unknown; status: number }> = [];

  constructor(readonly config: AmazonSimConfig) {}

  async listen(port = 0): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, '127.0.0.1', () => resolve());
    });
    const address = this.server.address();
    this.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : port}`;
    this.resumeFeeds();
    return this.url;
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const res of this.hanging) res.destroy();
    await new Promise<void>((resolve) => {
      if (!this.server) return resolve();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  limit(op: OperationName): { rate: number; burst: number } {
    return this.config.limits?.[op] ?? OPERATION_LIMITS[op];
  }

  /** Takes one token from the operation's bucket; false when it is empty. */
  private take(op: OperationName): boolean {
    const { rate, burst } = this.limit(op);
    const now = Date.now();
    const bucket = this.buckets.get(op) ?? { level: burst, at: now };
    bucket.level = Math.min(burst, bucket.level + ((now - bucket.at) / 1000) * rate);
    bucket.at = now;
    this.buckets.set(op, bucket);
    if (bucket.level < 1) return false;
    bucket.level -= 1;
    return true;
  }

  later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    t.unref();
    this.timers.add(t);
  }

  private resumeFeeds(): void {
    for (const feed of this.state.feeds.values()) {
      if (feed.processingStatus === 'IN_QUEUE' || feed.processingStatus === 'IN_PROGRESS') this.scheduleFeed(feed.feedId);
    }
  }

  /** IN_QUEUE -> IN_PROGRESS -> DONE, one step per delay: feeds are processed later, not on submit. */
  scheduleFeed(feedId: string): void {
    const delay = this.config.feedDelayMs ?? 200;
    this.later(delay, () => {
      const feed = this.state.feeds.get(feedId);
      if (!feed || feed.processingStatus !== 'IN_QUEUE') return;
      feed.processingStatus = 'IN_PROGRESS';
      feed.processingStartTime = new Date().toISOString();
      this.later(delay, () => processFeed(this.state, feed));
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = (req.method ?? 'GET').toUpperCase();
    let answer: HttpAnswer | null;
    try {
      if (this.faults.latencyMs) await new Promise((r) => setTimeout(r, this.faults.latencyMs));
      if (this.faults.timeoutRate && Math.random() < this.faults.timeoutRate) {
        this.hanging.add(res);
        res.on('close', () => this.hanging.delete(res));
        return; // never answers: the client must time out
      }
      answer = await this.dispatch(method, url, req.headers, raw);
    } catch (err) {
      this.config.log?.error({ err }, 'amazon simulator failed');
      answer = amazonError(500, 'InternalFailure', MSG.internal);
    }
    if (!answer) answer = new HttpAnswer(404, { message: 'Not Found' });
    const headers: Record<string, string> = { 'x-amzn-RequestId': randomUUID(), ...answer.headers };
    if (answer.status === 204 || answer.body === null) {
      res.writeHead(answer.status, headers).end();
      return;
    }
    const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
    res.writeHead(answer.status, { 'content-type': headers['content-type'] ?? 'application/json', ...headers }).end(text);
  }

  private async dispatch(method: string, url: URL, headers: IncomingMessage['headers'], raw: string): Promise<HttpAnswer | null> {
    if (method === 'POST' && url.pathname === '/auth/o2/token') return this.lwa(raw);
    if (method === 'POST' && typeof headers['x-amz-target'] === 'string') return this.sqs(String(headers['x-amz-target']), raw, headers);
    if (url.pathname.startsWith('/documents/')) return this.document(method, url.pathname.slice('/documents/'.length), raw, headers);

    // The static sandbox answers every operation its cases cover; the live simulator, the ones it implements.
    const sandbox = this.config.sandbox ? sandboxRoute(method, url.pathname) : null;
    const route = sandbox ? null : ROUTES.find((r) => r.method === method && r.pattern.test(url.pathname));
    if (!route && !sandbox) return null;
    const params = sandbox ? sandbox.params : this.routeParams(route!, url.pathname);
    const op = (sandbox ? sandbox.op.operationId : route!.op) as OperationName;
    const limited = (sandbox ? ROUTES.find((r) => r.method === method && r.pattern.test(url.pathname))?.op : route!.op) ?? null;

    if (this.faults.errorRate && Math.random() < this.faults.errorRate) return amazonError(500, 'InternalFailure', MSG.internal);

    // Authentication before throttling: API Gateway refuses an unsigned call first.
    const token = headers['x-amz-access-token'];
    if (typeof token !== 'string' || !token) {
      return amazonError(403, 'MissingAuthenticationToken', MSG.denied, '', { 'x-amzn-ErrorType': 'MissingAuthenticationTokenException' });
    }
    let rdt: Request['rdt'] = null;
    const granted = this.rdts.get(token);
    if (granted && granted.expires > Date.now()) rdt = granted.resources;
    else if (!((this.accessTokens.get(token) ?? 0) > Date.now())) {
      return amazonError(403, 'Unauthorized', MSG.denied, 'The access token you provided is revoked, malformed or invalid.', { 'x-amzn-ErrorType': 'AccessDeniedException' });
    }

    if (limited && !this.take(limited)) {
      this.calls.push({ op, query: Object.fromEntries(url.searchParams), body: null, status: 429 });
      return amazonError(429, 'QuotaExceeded', MSG.quota, '', { 'x-amzn-ErrorType': 'TooManyRequestsException' });
    }
    let body: unknown = null;
    if (raw) {
      try {
        body = JSON.parse(raw);
      } catch {
        return this.withRate(limited, invalidInput('The request body is not valid JSON.'));
      }
    }
    const request: Request = { op, params, query: url.searchParams, body, rdt, path: url.pathname };
    const answer = sandbox ? matchSandbox(sandbox.op, request) : await operate(this, request);
    this.calls.push({ op, query: Object.fromEntries(url.searchParams), body, status: answer.status });
    return this.withRate(limited, answer);
  }

  private routeParams(route: Route, pathname: string): Record<string, string> {
    const m = route.pattern.exec(pathname)!;
    return Object.fromEntries(route.names.map((n, i) => [n, decodeURIComponent(m[i + 1]!)]));
  }

  /** `x-amzn-RateLimit-Limit` on the statuses whose model lists it (200, 201, 202, 204, 400, 404). */
  private withRate(op: OperationName | null, answer: HttpAnswer): HttpAnswer {
    if (!op || ![200, 201, 202, 204, 400, 404].includes(answer.status)) return answer;
    return new HttpAnswer(answer.status, answer.body, { ...answer.headers, 'x-amzn-RateLimit-Limit': String(this.limit(op).rate) });
  }

  /** Login with Amazon: refresh_token grant; errors as `{error, error_description}`. */
  private lwa(raw: string): HttpAnswer {
    const form = new URLSearchParams(raw);
    const lwaError = (status: number, error: string, description: string) => new HttpAnswer(status, { error_description: description, error });
    if (form.get('client_id') !== this.config.clientId || form.get('client_secret') !== this.config.clientSecret) {
      return lwaError(401, 'invalid_client', 'Client authentication failed');
    }
    if (form.get('grant_type') !== 'refresh_token') return lwaError(400, 'unsupported_grant_type', 'The authorization grant type is not supported by the authorization server');
    if (form.get('refresh_token') !== this.config.refreshToken) {
      return lwaError(400, 'invalid_grant', "The request has an invalid grant parameter : refresh_token. User may have revoked or didn't grant the permission.");
    }
    const token = `Atza|${randomUUID()}`;
    this.accessTokens.set(token, Date.now() + 3_600_000);
    return new HttpAnswer(200, { access_token: token, refresh_token: this.config.refreshToken, token_type: 'bearer', expires_in: 3600 });
  }

  /** Mints a Restricted Data Token for these resources (operations.ts calls it). */
  mintRdt(resources: NonNullable<Request['rdt']>): string {
    const token = `Atz.sprdt|${randomUUID()}`;
    this.rdts.set(token, { expires: Date.now() + 3_600_000, resources });
    return token;
  }

  /** Makes every access token and RDT minted so far invalid (tokens that expired early, or a restarted simulator). */
  expireTokens(): void {
    this.accessTokens.clear();
    this.rdts.clear();
  }

  /** Pre-signed upload (PUT) and download (GET) of feed documents. */
  private document(method: string, id: string, raw: string, headers: IncomingMessage['headers']): HttpAnswer {
    const doc = this.state.documents.get(id);
    if (!doc) return new HttpAnswer(404, '<Error><Code>NoSuchKey</Code></Error>', { 'content-type': 'application/xml' });
    if (method === 'PUT') {
      const type = String(headers['content-type'] ?? '');
      // S3 signs the content type into the pre-signed URL: another one is refused.
      if (type.toLowerCase().replace(/\s/g, '') !== doc.contentType.toLowerCase().replace(/\s/g, '')) {
        return new HttpAnswer(403, '<Error><Code>SignatureDoesNotMatch</Code></Error>', { 'content-type': 'application/xml' });
      }
      doc.content = raw;
      return new HttpAnswer(200, '', { 'content-type': 'text/plain' });
    }
    if (method === 'GET' && doc.content !== null) return new HttpAnswer(200, doc.content, { 'content-type': doc.contentType });
    return new HttpAnswer(404, '<Error><Code>NoSuchKey</Code></Error>', { 'content-type': 'application/xml' });
  }

  /** SQS, AWS JSON 1.0 protocol: ReceiveMessage and DeleteMessage (all the connector uses). */
  private async sqs(target: string, raw: string, headers: IncomingMessage['headers']): Promise<HttpAnswer> {
    const json = { 'content-type': 'application/x-amz-json-1.0' };
    const fault = (status: number, type: string, message: string) => new HttpAnswer(status, { __type: type, message }, json);
    const auth = String(headers.authorization ?? '');
    if (!auth.includes(`Credential=${this.config.awsAccessKeyId}/`)) return fault(403, 'com.amazon.coral.service#InvalidClientTokenId', 'The security token included in the request is invalid.');
    let input: { QueueUrl?: string; MaxNumberOfMessages?: number; WaitTimeSeconds?: number; ReceiptHandle?: string; VisibilityTimeout?: number };
    try {
      input = JSON.parse(raw || '{}');
    } catch {
      return fault(400, 'com.amazon.coral.service#SerializationException', 'Start of structure or map found where not expected.');
    }
    if (input.QueueUrl !== this.queueUrl()) return fault(400, 'com.amazonaws.sqs#QueueDoesNotExist', 'The specified queue does not exist.');
    if (target === 'AmazonSQS.ReceiveMessage') {
      const max = input.MaxNumberOfMessages ?? 1;
      if (!Number.isInteger(max) || max < 1 || max > 10) return fault(400, 'com.amazonaws.sqs#InvalidParameterValue', `Value ${max} for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.`);
      const deadline = Date.now() + Math.min(20, input.WaitTimeSeconds ?? 0) * 1000;
      for (;;) {
        const now = Date.now();
        const ready = this.state.queue.filter((m) => m.invisibleUntil <= now).slice(0, max);
        if (ready.length || now >= deadline) {
          for (const m of ready) {
            m.invisibleUntil = now + (input.VisibilityTimeout ?? 30) * 1000;
            m.receipt = randomUUID();
            m.receipts = [...(m.receipts ?? []), m.receipt];
          }
          return new HttpAnswer(200, { Messages: ready.map((m) => ({ MessageId: m.MessageId, ReceiptHandle: m.receipt, MD5OfBody: m.MD5OfBody, Body: m.Body })) }, json);
        }
        await new Promise((r) => setTimeout(r, 100));
        if (!this.server?.listening) return new HttpAnswer(200, { Messages: [] }, json);
      }
    }
    if (target === 'AmazonSQS.DeleteMessage') {
      // SQS: "you must provide the most recently received ReceiptHandle for the message (otherwise, the
      // request succeeds, but the message will not be deleted)". A handle never issued is invalid.
      const i = this.state.queue.findIndex((m) => m.receipt !== null && m.receipt === input.ReceiptHandle);
      if (i >= 0) {
        for (const r of this.state.queue[i]!.receipts ?? []) this.deleted.add(r);
        if (this.deleted.size > 100_000) for (const r of [...this.deleted].slice(0, 50_000)) this.deleted.delete(r);
        this.state.queue.splice(i, 1);
        return new HttpAnswer(200, {}, json);
      }
      if (this.state.queue.some((m) => m.receipts?.includes(String(input.ReceiptHandle))) || this.deleted.has(String(input.ReceiptHandle))) return new HttpAnswer(200, {}, json);
      return fault(400, 'com.amazonaws.sqs#ReceiptHandleIsInvalid', `The input receipt handle "${input.ReceiptHandle}" is not a valid receipt handle.`);
    }
    return fault(400, 'com.amazon.coral.service#UnknownOperationException', `Operation ${target} is not supported by this simulator.`);
  }

  queueUrl(): string {
    return `${this.url}/123456789012/channelsync-order-change`;
  }

  sellerId(): string {
    return SIM_SELLER;
  }

  order(id: string): SimOrder | undefined {
    return this.state.orders.get(id);
  }
}
