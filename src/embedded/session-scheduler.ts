/**
 * PGlite is one Postgres session. pglite-socket lets many clients connect to
 * it, and this scheduler decides whose protocol messages run, so that clients
 * sharing the one session cannot corrupt each other:
 *
 * - A client owns the session from its first message until the server answers
 *   ReadyForQuery with status idle ('I'). So an extended-protocol exchange
 *   (Parse, Bind, Execute ... Sync) and a whole transaction (BEGIN ... COMMIT)
 *   run without another client's messages in between. pglite-socket's own
 *   queue switches clients between single messages outside an explicit
 *   transaction, where two clients' unnamed statements can clobber each other.
 * - NOTIFY: the one session hears its own notifications, and PGlite writes them
 *   into the answer of whichever client committed the NOTIFY. They are cut out
 *   of that answer and sent to every connected client instead, so a `LISTEN`ing
 *   client (BullMQ's workers wait on one) is woken at once.
 *
 * A client that keeps a transaction open while it waits for another client
 * (a query on a second pool connection inside a transaction) would wait
 * forever: on a real Postgres both run. The scheduler warns after 10 s.
 */
import type { PGlite } from '@electric-sql/pglite';

interface Task {
  handlerId: number;
  /** A protocol message to run, or null for "this client left: clean up after it". */
  message: Uint8Array | null;
  onData: (data: Uint8Array) => void;
  resolve: (bytes: number) => void;
  reject: (error: Error) => void;
  queuedAt: number;
}

/** Protocol messages that need special handling. */
const TERMINATE = 0x58; // 'X'
const READY_FOR_QUERY = 0x5a; // 'Z'
const NOTIFICATION = 0x41; // 'A'
const IDLE = 0x49; // 'I'
const SYNC = new Uint8Array([0x53, 0, 0, 0, 4]); // 'S', length 4

export interface SchedulerLog {
  warn(fields: object, message: string): void;
}

/** The shape pglite-socket's `PGLiteSocketHandler` expects for its `queryQueue` option. */
export class SessionScheduler {
  private queue: Task[] = [];
  private running = false;
  /** The client whose exchange or transaction is in progress; null when the session is idle. */
  private owner: number | null = null;
  /** Where each connected client's bytes go, for broadcasting notifications. */
  private readonly sinks = new Map<number, (data: Uint8Array) => void>();
  private watchdog: NodeJS.Timeout | null = null;

  constructor(
    private readonly db: PGlite,
    private readonly log?: SchedulerLog,
    /** How long others may wait on one client's open transaction before a warning; default 10 s. */
    private readonly warnAfterMs = 10_000,
  ) {}

  enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    this.sinks.set(handlerId, onData);
    return new Promise((resolve, reject) => {
      this.queue.push({ handlerId, message, onData, resolve, reject, queuedAt: Date.now() });
      void this.drain();
    });
  }

  getQueueLength(): number {
    return this.queue.length;
  }

  /** The client disconnected: drop its queued messages. */
  clearQueueForHandler(handlerId: number): void {
    this.sinks.delete(handlerId);
    this.queue = this.queue.filter((task) => {
      if (task.handlerId !== handlerId || task.message === null) return true;
      task.reject(new Error('client disconnected'));
      return false;
    });
  }

  /** The client disconnected: if it held the session, end its exchange and roll back its transaction. */
  clearTransactionIfNeeded(handlerId: number): Promise<void> {
    return new Promise((resolve, reject) => {
      // Queued behind whatever of this client's work is running, and picked next when it owns the session.
      this.queue.push({ handlerId, message: null, onData: () => {}, resolve: () => resolve(), reject, queuedAt: Date.now() });
      void this.drain();
    });
  }

  private next(): Task | undefined {
    if (this.owner === null) return this.queue.shift();
    const i = this.queue.findIndex((task) => task.handlerId === this.owner);
    if (i === -1) {
      this.armWatchdog();
      return undefined;
    }
    return this.queue.splice(i, 1)[0];
  }

  private async drain(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (let task = this.next(); task; task = this.next()) {
        try {
          task.resolve(task.message === null ? await this.cleanUp(task.handlerId) : await this.run(task));
        } catch (err) {
          // PGlite itself failed: the exchange is over whatever state it left.
          if (this.owner === task.handlerId) this.owner = null;
          task.reject(err as Error);
        }
      }
    } finally {
      this.running = false;
    }
  }

  private async run(task: Task): Promise<number> {
    const message = task.message!;
    // Terminate would end the one shared session; the socket closing is what ends this client.
    if (message[0] === TERMINATE) return 0;
    const answer = await this.exec(message);
    const { own, notifications, readyStatus } = splitAnswer(answer);
    if (own.length) task.onData(own);
    for (const notification of notifications) for (const sink of this.sinks.values()) sink(notification);
    // The session is free again only at ReadyForQuery outside a transaction.
    this.owner = readyStatus === IDLE ? null : task.handlerId;
    return answer.length;
  }

  private async cleanUp(handlerId: number): Promise<number> {
    if (this.owner !== handlerId) return 0;
    // Finish a half-sent extended-protocol exchange, then undo an open transaction.
    const status = splitAnswer(await this.exec(SYNC)).readyStatus;
    if (status !== IDLE) await this.exec(queryMessage('ROLLBACK'));
    this.owner = null;
    return 0;
  }

  private async exec(message: Uint8Array): Promise<Uint8Array> {
    const chunks: Uint8Array[] = [];
    await this.db.runExclusive(() =>
      this.db.execProtocolRawStream(message, { onRawData: (data) => void chunks.push(data.slice()) }),
    );
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  }

  private armWatchdog(): void {
    if (this.watchdog || !this.log) return;
    const owner = this.owner;
    this.watchdog = setTimeout(() => {
      this.watchdog = null;
      const waiting = this.queue.filter((t) => t.handlerId !== owner);
      if (this.owner === owner && waiting.length && Date.now() - waiting[0]!.queuedAt >= this.warnAfterMs) {
        this.log!.warn(
          { connection: owner, waiting: waiting.length },
          'embedded Postgres: one connection has kept a transaction open for 10 s while others wait; ' +
            'a transaction that waits for a query on another connection never finishes in embedded mode',
        );
      }
    }, this.warnAfterMs);
    this.watchdog.unref();
  }
}

/** Splits the server's answer into the asking client's part and NotificationResponse messages. */
function splitAnswer(answer: Uint8Array): { own: Uint8Array; notifications: Uint8Array[]; readyStatus: number | null } {
  const notifications: Uint8Array[] = [];
  let readyStatus: number | null = null;
  let ownParts: Uint8Array[] | null = null;
  let offset = 0;
  let keptFrom = 0;
  const view = new DataView(answer.buffer, answer.byteOffset, answer.byteLength);
  while (offset + 5 <= answer.length) {
    const type = answer[offset]!;
    const end = offset + 1 + view.getInt32(offset + 1);
    if (end > answer.length) break;
    if (type === READY_FOR_QUERY) readyStatus = answer[offset + 5]!;
    if (type === NOTIFICATION) {
      ownParts ??= [];
      ownParts.push(answer.subarray(keptFrom, offset));
      notifications.push(answer.slice(offset, end));
      keptFrom = end;
    }
    offset = end;
  }
  if (!ownParts) return { own: answer, notifications, readyStatus };
  ownParts.push(answer.subarray(keptFrom));
  return { own: Buffer.concat(ownParts), notifications, readyStatus };
}

/** A simple-protocol Query message. */
function queryMessage(sql: string): Uint8Array {
  const text = Buffer.from(`${sql}\0`, 'utf8');
  const message = Buffer.alloc(5 + text.length);
  message[0] = 0x51; // 'Q'
  message.writeInt32BE(4 + text.length, 1);
  text.copy(message, 5);
  return message;
}
