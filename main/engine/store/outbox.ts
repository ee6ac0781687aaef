import type Database from 'better-sqlite3';
import type { Logger } from '../logger.js';
import { DEAD_LETTER_MAX_BYTES, type Store } from './store.js';

/** The durable outbox of one network sink (SQLite table tf_outbox). */
export interface OutboxStatus {
  /** Entries waiting or in flight, and their payload bytes. */
  readonly depth: number;
  readonly bytes: number;
  readonly maxCount: number;
  readonly maxBytes: number;
  readonly inFlight: number;
  /** Since the engine started: delivered, evicted to make room, retried after a failure. */
  readonly sent: number;
  readonly evicted: number;
  readonly retries: number;
  /** Whether the last attempt failed (the target is unreachable or answering 5xx), and why. */
  readonly failing: boolean;
  readonly lastError: string | undefined;
}

export interface OutboxEntry {
  readonly id: number;
  readonly priority: number;
  readonly seq: number | null;
  readonly topic: string | null;
  readonly body: Buffer;
  readonly bytes: number;
  readonly attempts: number;
}

export interface NewOutboxEntry {
  readonly priority: number;
  readonly seq: number | undefined;
  readonly topic: string | undefined;
  readonly body: Buffer;
}

/** What a send came to: delivered, worth retrying (5xx, timeout, unreachable), or never (4xx). */
export type SendOutcome =
  { readonly ok: true } | { readonly ok: false; readonly retry: boolean; readonly error: string };

export interface OutboxOptions {
  readonly store: Store;
  /** Node id: each sink has its own queue inside tf_outbox. */
  readonly node: string;
  readonly flow: () => string;
  readonly revision: () => string;
  readonly maxCount: number;
  readonly maxBytes: number;
  /** Sends at once (1 keeps strict priority order). */
  readonly concurrency: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  readonly send: (entry: OutboxEntry) => Promise<SendOutcome>;
  /** False while the target cannot be tried at all (an MQTT connection that is down); see `poke`. */
  readonly ready?: () => boolean;
  readonly log: Logger;
  readonly random?: () => number;
  /** Told of each delivered entry and each one turned into a dead letter (for counters). */
  readonly onSent?: () => void;
  readonly onDeadLetter?: () => void;
}

/**
 * Entries in flight per store file and node, shared by the instances of one node id: a redeploy
 * starts the new instance before the old one has finished, and neither may send what the other
 * has in flight.
 */
const IN_FLIGHT = new Map<string, Set<number>>();

/**
 * A SQLite-backed queue in front of a network sink. An entry is deleted only once its target
 * confirmed it, so one in flight at a crash is sent again at the next start (at least once).
 *
 * - Order: highest priority first, then enqueue order (an INTEGER PRIMARY KEY, not the clock).
 * - Bounds: `maxCount` entries and `maxBytes` of bodies; beyond them the lowest-priority, oldest
 *   entries are evicted, each moved to the dead letters with its reason in the same transaction
 *   (so "evicted" is never "lost"), counted and logged.
 * - Failures: 5xx, timeouts and unreachable targets retry after an exponential backoff with full
 *   jitter (a random delay in [0, min(cap, base × 2^failures)]) measured on the monotonic clock,
 *   so a wall-clock jump neither stalls nor floods it; 4xx-like refusals become dead letters.
 */
export class Outbox {
  private readonly db: Database.Database;
  private readonly inFlight: Set<number>;
  /** This instance's own sends in flight (close waits for these). */
  private mine = 0;
  private depth = 0;
  private bytes = 0;
  private sent = 0;
  private evicted = 0;
  private retries = 0;
  private failures = 0;
  private failing = false;
  private lastError: string | undefined;
  private nextAttemptAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly idleWaiters: (() => void)[] = [];
  /** Entries read ahead in send order; re-read after every add (a higher priority may have come). */
  private ahead: OutboxEntry[] = [];
  private aheadStale = true;
  /** Delivered, deleted in the next batched transaction (a crash before it: sent again, at least once). */
  private readonly delivered = new Set<number>();
  private deleteScheduled = false;
  private readonly deleteAll: (ids: readonly number[]) => void;
  private readonly statements: {
    insert: Database.Statement;
    next: Database.Statement;
    victims: Database.Statement;
    remove: Database.Statement;
    failed: Database.Statement;
    toDeadLetter: Database.Statement;
  };
  private readonly insertAll: (entries: readonly NewOutboxEntry[]) => void;
  private readonly deadLetterNow: (entry: OutboxEntry, reason: string) => void;

  constructor(private readonly options: OutboxOptions) {
    const db = options.store.db;
    this.db = db;
    const shared = `${options.store.path}\u0000${options.node}`;
    let inFlight = IN_FLIGHT.get(shared);
    if (!inFlight) IN_FLIGHT.set(shared, (inFlight = new Set()));
    this.inFlight = inFlight;
    this.statements = {
      insert: db.prepare(
        'INSERT INTO tf_outbox (node, priority, at, seq, topic, body, bytes) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      next: db.prepare(
        'SELECT id, priority, seq, topic, body, bytes, attempts FROM tf_outbox WHERE node = ? ORDER BY priority DESC, id LIMIT ?',
      ),
      victims: db.prepare('SELECT id, priority, bytes FROM tf_outbox WHERE node = ? ORDER BY priority, id LIMIT ?'),
      remove: db.prepare('DELETE FROM tf_outbox WHERE id = ?'),
      failed: db.prepare('UPDATE tf_outbox SET attempts = attempts + 1, last_error = ? WHERE id = ?'),
      toDeadLetter: db.prepare(
        `INSERT INTO tf_dead_letters (at, seq, flow, revision, node, reason, topic, qos, payload, payload_size)
         SELECT ?, seq, ?, ?, node, ?, topic, NULL, substr(body, 1, ${DEAD_LETTER_MAX_BYTES}), bytes
         FROM tf_outbox WHERE id = ?`,
      ),
    };
    const totals = db
      .prepare('SELECT count(*) AS n, coalesce(sum(bytes), 0) AS b FROM tf_outbox WHERE node = ?')
      .get(options.node) as { n: number; b: number };
    this.depth = totals.n;
    this.bytes = totals.b;

    const moveToDeadLetters = (id: number, reason: string): void => {
      this.statements.toDeadLetter.run(Date.now(), options.flow(), options.revision(), reason, id);
      this.statements.remove.run(id);
    };
    this.insertAll = db.transaction((entries: readonly NewOutboxEntry[]) => {
      const { insert } = this.statements;
      const at = Date.now();
      let depth = this.depth;
      let bytes = this.bytes;
      for (const e of entries) {
        insert.run(options.node, e.priority, at, e.seq ?? null, e.topic ?? null, e.body, e.body.length);
        depth++;
        bytes += e.body.length;
      }
      const evictedNow: { id: number; priority: number }[] = [];
      while (depth > options.maxCount || bytes > options.maxBytes) {
        const rows = this.statements.victims.all(options.node, this.inFlight.size + this.delivered.size + 1) as {
          id: number;
          priority: number;
          bytes: number;
        }[];
        const victim = rows.find((r) => !this.inFlight.has(r.id) && !this.delivered.has(r.id));
        if (!victim) break;
        moveToDeadLetters(
          victim.id,
          `outbox full (${options.maxCount} messages / ${options.maxBytes} bytes): evicted, priority ${victim.priority}`,
        );
        depth--;
        bytes -= victim.bytes;
        evictedNow.push(victim);
      }
      // Only after the transaction body succeeded: a rollback must leave the counts as they were.
      this.depth = depth;
      this.bytes = bytes;
      if (evictedNow.length > 0) {
        // An evicted entry may have been read ahead: read again.
        this.aheadStale = true;
        this.evicted += evictedNow.length;
        options.store.deadLettersRecorded += evictedNow.length;
        options.log.warn(
          {
            evicted: evictedNow.length,
            priorities: [...new Set(evictedNow.map((v) => v.priority))],
            evictedTotal: this.evicted,
          },
          'outbox full: evicted the lowest-priority, oldest messages to the dead letters',
        );
      }
    });
    this.deadLetterNow = db.transaction((entry: OutboxEntry, reason: string) => {
      moveToDeadLetters(entry.id, reason);
    });
    this.deleteAll = db.transaction((ids: readonly number[]) => {
      for (const id of ids) this.statements.remove.run(id);
    });
  }

  /** Adds entries in one transaction (throws when the store cannot write); call `poke` after commit. */
  add(entries: readonly NewOutboxEntry[]): void {
    const { depth, bytes, evicted } = this;
    // Entries read ahead stay valid unless one added now would be sent before the last of them.
    const last = this.ahead[this.ahead.length - 1];
    if (!last || entries.some((e) => e.priority > last.priority)) this.aheadStale = true;
    try {
      this.insertAll(entries);
    } catch (error) {
      // Rolled back (a failed COMMIT included): the counts go back with it.
      Object.assign(this, { depth, bytes, evicted });
      throw error;
    }
  }

  /** Starts sending if it can (after an add, a reconnect, or at start). */
  poke(): void {
    if (this.closed || this.timer !== undefined) return;
    if (this.options.ready && !this.options.ready()) return;
    const wait = this.nextAttemptAt - performance.now();
    if (wait > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.poke();
      }, wait);
      this.timer.unref();
      return;
    }
    while (this.mine < this.options.concurrency) {
      const entry = this.next();
      if (!entry) break;
      this.inFlight.add(entry.id);
      this.mine++;
      void this.deliver(entry);
    }
  }

  status(): OutboxStatus {
    return {
      depth: this.depth,
      bytes: this.bytes,
      maxCount: this.options.maxCount,
      maxBytes: this.options.maxBytes,
      inFlight: this.mine,
      sent: this.sent,
      evicted: this.evicted,
      retries: this.retries,
      failing: this.failing,
      lastError: this.lastError,
    };
  }

  /** Stops sending; resolves once nothing is in flight. What waits stays in SQLite for the next start. */
  close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.mine === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private next(): OutboxEntry | undefined {
    for (let attempt = 0; attempt < 2; attempt++) {
      if (this.aheadStale || this.ahead.length === 0) {
        const skip = this.inFlight.size + this.delivered.size;
        this.ahead = this.statements.next.all(this.options.node, skip + 256) as OutboxEntry[];
        this.aheadStale = false;
      }
      while (this.ahead.length > 0) {
        const entry = this.ahead.shift() as OutboxEntry;
        if (!this.inFlight.has(entry.id) && !this.delivered.has(entry.id)) return entry;
      }
      this.aheadStale = true;
    }
    return undefined;
  }

  private scheduleDeletes(): void {
    if (this.deleteScheduled) return;
    this.deleteScheduled = true;
    setImmediate(() => {
      this.deleteScheduled = false;
      const ids = [...this.delivered];
      try {
        this.deleteAll(ids);
        for (const id of ids) this.delivered.delete(id);
        this.options.store.reportWrite();
      } catch (error) {
        // Kept in `delivered` (not sent again by this run); retried with the next delete.
        this.options.store.reportWrite(error);
      }
    });
  }

  private async deliver(entry: OutboxEntry): Promise<void> {
    let outcome: SendOutcome;
    try {
      outcome = await this.options.send(entry);
    } catch (error) {
      outcome = { ok: false, retry: true, error: error instanceof Error ? error.message : String(error) };
    }
    try {
      if (outcome.ok) {
        this.delivered.add(entry.id);
        this.scheduleDeletes();
        this.forget(entry);
        this.sent++;
        this.options.onSent?.();
        this.failures = 0;
        this.failing = false;
        this.lastError = undefined;
      } else if (!outcome.retry) {
        this.deadLetterNow(entry, outcome.error);
        this.options.store.deadLettersRecorded++;
        this.options.onDeadLetter?.();
        this.forget(entry);
      } else {
        this.retries++;
        this.failing = true;
        this.lastError = outcome.error;
        this.statements.failed.run(outcome.error.slice(0, 500), entry.id);
        // Sent again first when its turn comes: it keeps its place in the order.
        this.aheadStale = true;
        this.backOff();
      }
      this.options.store.reportWrite();
    } catch (error) {
      // The store could not record the outcome: the entry stays and is sent again later.
      this.options.store.reportWrite(error);
      this.backOff();
    } finally {
      this.inFlight.delete(entry.id);
      this.mine--;
    }
    if (this.closed) this.notifyIdle();
    else this.poke();
  }

  private forget(entry: OutboxEntry): void {
    this.depth--;
    this.bytes -= entry.bytes;
  }

  private backOff(): void {
    const { retryBaseMs, retryMaxMs } = this.options;
    const cap = Math.min(retryMaxMs, retryBaseMs * 2 ** Math.min(this.failures++, 30));
    const delay = (this.options.random ?? Math.random)() * cap;
    this.nextAttemptAt = Math.max(this.nextAttemptAt, performance.now() + delay);
  }

  private notifyIdle(): void {
    if (this.mine > 0 || this.idleWaiters.length === 0) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}
