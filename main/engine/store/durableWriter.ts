import type { Logger } from '../logger.js';
import { BatchWriter } from './batchWriter.js';

/**
 * SQLite result codes that say the store itself cannot take writes now (disk full, read-only,
 * I/O error, locked), as opposed to one row being wrong (a constraint, a type). better-sqlite3's
 * SqliteError carries the extended code, e.g. SQLITE_IOERR_WRITE.
 */
const STORE_FAILURES = [
  'SQLITE_FULL',
  'SQLITE_READONLY',
  'SQLITE_IOERR',
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_CANTOPEN',
  'SQLITE_NOMEM',
  'SQLITE_PROTOCOL',
  'SQLITE_CORRUPT',
  'SQLITE_NOTADB',
];

export function isStoreFailure(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && STORE_FAILURES.some((c) => code === c || code.startsWith(`${c}_`));
}

export interface StoreHealthReporter {
  reportWrite(error?: unknown): void;
  /** False once the store is closed: a retry then gives up (its messages stay unacknowledged). */
  readonly isOpen?: boolean;
}

export interface DurableWriterOptions<T> {
  readonly batchSize: number;
  /** Writes the items in one transaction; throws when it could not. */
  readonly write: (items: T[]) => void;
  /** After the transaction committed: let the items go (their messages can be acknowledged). */
  readonly committed: (items: T[]) => void;
  /** One item its own transaction refused for a reason of its own (not the store's). */
  readonly rejected: (item: T, error: unknown) => void;
  readonly store: StoreHealthReporter;
  readonly log: Logger;
  /** Items kept in memory while the store fails; beyond it `overflow` decides (default: keep). */
  readonly maxWaiting?: number;
  /** Called for an item that arrives while `maxWaiting` items wait; return true to keep it anyway. */
  readonly overflow?: (item: T) => boolean;
}

/** Retry delays while the store fails: 250 ms doubling to 5 s. */
const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 5_000;

/**
 * Batched, transactional writes that never let go of an item before it is committed.
 *
 * A batch that fails because of one bad row is written again item by item, and only the bad
 * items are `rejected` (dead-lettered by the caller). A batch that fails because the store cannot
 * write (disk full, read-only) is kept, the store is reported failing, and it is written again
 * after a backoff, together with what arrived meanwhile: the messages stay unacknowledged, so the
 * broker holds the rest back (Receive Maximum / max_inflight) and nothing is lost or acked early.
 */
export class DurableWriter<T> {
  private readonly batch: BatchWriter<T>;
  private waiting: T[] = [];
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private readonly waiters: (() => void)[] = [];

  constructor(private readonly options: DurableWriterOptions<T>) {
    this.batch = new BatchWriter<T>(options.batchSize, (items) => this.attempt(items));
  }

  get pending(): number {
    return this.batch.pending + this.waiting.length;
  }

  /** True while writes are held back because the store failed. */
  get failing(): boolean {
    return this.retryTimer !== undefined;
  }

  add(item: T): void {
    if (this.retryTimer !== undefined) {
      const limit = this.options.maxWaiting ?? Number.POSITIVE_INFINITY;
      if (this.waiting.length >= limit && !(this.options.overflow?.(item) ?? true)) return;
      this.waiting.push(item);
      return;
    }
    this.batch.add(item);
  }

  /** Writes what waits now (unless the store is failing: then it waits for the next retry). */
  flush(): void {
    this.batch.flush();
  }

  /** Resolves when nothing waits (every item committed or rejected). */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Stops retrying; what still waits stays unacknowledged (the broker redelivers it). */
  close(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  private attempt(items: T[]): void {
    const { write, committed, rejected, store } = this.options;
    try {
      write(items);
      store.reportWrite();
      this.failures = 0;
      committed(items);
    } catch (error) {
      if (isStoreFailure(error)) {
        this.hold(items, error);
        return;
      }
      // One bad row must not sink its batch: write the items one by one, reject the bad ones.
      for (let i = 0; i < items.length; i++) {
        const item = items[i] as T;
        try {
          write([item]);
          store.reportWrite();
          committed([item]);
        } catch (itemError) {
          if (isStoreFailure(itemError)) {
            this.hold(items.slice(i), itemError);
            return;
          }
          rejected(item, itemError);
        }
      }
    }
    this.notifyIdle();
  }

  private hold(items: T[], error: unknown): void {
    this.options.store.reportWrite(error);
    this.waiting = items.concat(this.waiting);
    const delay = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** this.failures++);
    this.options.log.warn(
      { error: (error as Error).message, waiting: this.waiting.length, retryInMs: delay },
      'store write failed: holding messages unacknowledged',
    );
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.retry(), delay);
    this.retryTimer.unref();
  }

  private retry(): void {
    this.retryTimer = undefined;
    if (this.options.store.isOpen === false) {
      // The engine stopped while the store was failing: the broker redelivers what waits here.
      this.waiting = [];
      return;
    }
    const items = this.waiting;
    this.waiting = [];
    if (items.length > 0) this.attempt(items);
    else this.notifyIdle();
  }

  private notifyIdle(): void {
    if (this.pending > 0 || this.waiters.length === 0) return;
    const waiters = this.waiters.splice(0);
    for (const resolve of waiters) resolve();
  }
}

/** Messages a sink keeps in memory while the store fails; beyond it, QoS 0 ones are dropped. */
export const MAX_WAITING_WHILE_FAILING = 10_000;

/**
 * The DurableWriter settings every sink shares: while the store fails, QoS 1/2 messages wait
 * (the broker's in-flight window bounds them), QoS 0 messages (which nothing would redeliver) wait up
 * to MAX_WAITING_WHILE_FAILING and are then counted as dropped.
 */
export function sinkWriterDefaults<T extends { readonly message: { readonly delivery?: unknown } }>(sink: {
  readonly store: StoreHealthReporter;
  readonly log: Logger;
  readonly counters: { dropped: number };
}): Pick<DurableWriterOptions<T>, 'store' | 'log' | 'maxWaiting' | 'overflow'> {
  return {
    store: sink.store,
    log: sink.log,
    maxWaiting: MAX_WAITING_WHILE_FAILING,
    overflow: (item) => {
      if (item.message.delivery !== undefined) return true;
      sink.counters.dropped++;
      return false;
    },
  };
}
