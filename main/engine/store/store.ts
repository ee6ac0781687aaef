import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { DeliveryHandle } from '../../../shared/message.js';
import type { Logger } from '../logger.js';
import { DurableWriter } from './durableWriter.js';

export const STORE_FILE = 'topicflow.db';
/** Dead letters keep at most this many bytes of the original payload. */
export const DEAD_LETTER_MAX_BYTES = 1024 * 1024;

/** Versioned migrations of the engine's own tables (prefixed tf_); the user's tables are the sinks'. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE tf_dead_letters (
     id INTEGER PRIMARY KEY,
     at INTEGER NOT NULL,           -- wall clock, epoch ms
     seq INTEGER,                   -- engine receive sequence (orders without trusting the clock)
     flow TEXT NOT NULL,
     revision TEXT NOT NULL,
     node TEXT NOT NULL,
     reason TEXT NOT NULL,
     topic TEXT,
     qos INTEGER,
     payload BLOB,                  -- the original bytes, binary-safe
     payload_size INTEGER,          -- size of the original, which may exceed what is kept
     replayed_at INTEGER
   );
   CREATE INDEX tf_dead_letters_node ON tf_dead_letters(node, id);`,
  // Keys of messages a sqlite-sink committed, so a redelivery after a crash is written once.
  `CREATE TABLE tf_seen (
     sink TEXT NOT NULL,            -- node id
     key BLOB NOT NULL,
     n INTEGER NOT NULL,            -- per-sink counter: the window keeps the last N keys
     PRIMARY KEY (sink, key)
   ) WITHOUT ROWID;
   CREATE INDEX tf_seen_n ON tf_seen(sink, n);`,
  // Durable outbox of the network sinks (http-post, mqtt-out).
  `CREATE TABLE tf_outbox (
     id INTEGER PRIMARY KEY,        -- enqueue order (not the wall clock)
     node TEXT NOT NULL,
     priority INTEGER NOT NULL,
     at INTEGER NOT NULL,           -- wall clock at enqueue, epoch ms (informational)
     seq INTEGER,                   -- engine receive sequence of the message
     topic TEXT,
     body BLOB NOT NULL,
     bytes INTEGER NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0,
     last_error TEXT
   );
   CREATE INDEX tf_outbox_next ON tf_outbox(node, priority DESC, id);
   CREATE INDEX tf_outbox_evict ON tf_outbox(node, priority, id);`,
];

export interface DeadLetter {
  readonly at: number;
  readonly seq: number | undefined;
  readonly flow: string;
  readonly revision: string;
  readonly node: string;
  readonly reason: string;
  readonly topic: string | undefined;
  readonly qos: number | undefined;
  readonly payload: Uint8Array | undefined;
  /** Released once the dead letter is committed (the broker is acknowledged then). */
  readonly delivery?: DeliveryHandle | undefined;
}

/** The workspace's SQLite file: WAL, a busy timeout, versioned migrations. */
export class Store {
  readonly db: Database.Database;
  private readonly deadLetterWriter: DurableWriter<DeadLetter>;
  private closed = false;
  private failure: { error: string; sinceMono: number } | undefined;
  /** Dead letters committed since the store was opened. */
  deadLettersRecorded = 0;

  private constructor(
    readonly path: string,
    private readonly log: Logger,
  ) {
    // The desktop app's engine runs under Electron's Node ABI; its launcher names an addon built for it.
    const nativeBinding = process.env['TOPICFLOW_SQLITE_NATIVE_BINDING'];
    this.db = new Database(path, nativeBinding ? { timeout: 5000, nativeBinding } : { timeout: 5000 });
    this.db.pragma('journal_mode = WAL');
    // FULL: a committed batch survives a power cut, not only a crash; batching pays for the fsync.
    this.db.pragma('synchronous = FULL');
    this.db.pragma('foreign_keys = ON');
    this.migrate();
    const insert = this.db.prepare(
      `INSERT INTO tf_dead_letters (at, seq, flow, revision, node, reason, topic, qos, payload, payload_size)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const insertAll = this.db.transaction((items: DeadLetter[]) => {
      for (const d of items) {
        const bytes = d.payload;
        const kept =
          bytes && bytes.byteLength > DEAD_LETTER_MAX_BYTES ? bytes.subarray(0, DEAD_LETTER_MAX_BYTES) : bytes;
        insert.run(
          d.at,
          d.seq ?? null,
          d.flow,
          d.revision,
          d.node,
          d.reason,
          d.topic ?? null,
          d.qos ?? null,
          kept ? Buffer.from(kept.buffer, kept.byteOffset, kept.byteLength) : null,
          bytes ? bytes.byteLength : null,
        );
      }
    });
    this.deadLetterWriter = new DurableWriter<DeadLetter>({
      batchSize: 500,
      write: insertAll,
      committed: (items) => {
        this.deadLettersRecorded += items.length;
        for (const d of items) d.delivery?.release();
      },
      rejected: (item, error) => {
        // Not released: its message stays unacknowledged, so the broker redelivers it.
        this.log.error({ err: error, node: item.node, reason: item.reason }, 'could not record a dead letter');
      },
      store: this,
      log,
      // While the store fails, dead letters of QoS 0 messages (nothing to redeliver) are bounded.
      maxWaiting: 10_000,
      overflow: (item) => item.delivery !== undefined,
    });
  }

  static open(dataDir: string, log: Logger, maxBytes?: number): Store {
    mkdirSync(dataDir, { recursive: true });
    const store = new Store(join(dataDir, STORE_FILE), log);
    if (maxBytes !== undefined) store.limitSize(maxBytes);
    return store;
  }

  /**
   * Bounds the file (PRAGMA max_page_count, on this connection): past it, writes fail with
   * SQLITE_FULL exactly as on a full disk, so the same path (hold acks, report failing) handles both.
   * Returns the bound in bytes (whole pages; never below what the file already uses).
   */
  limitSize(maxBytes: number): number {
    const pageSize = this.db.pragma('page_size', { simple: true }) as number;
    const pages = this.db.pragma(`max_page_count = ${Math.max(1, Math.floor(maxBytes / pageSize))}`, {
      simple: true,
    }) as number;
    return pages * pageSize;
  }

  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version > MIGRATIONS.length) {
      throw new Error(
        `${this.path} was written by a newer TopicFlow (store schema ${version}, this version knows ${MIGRATIONS.length})`,
      );
    }
    for (let v = version; v < MIGRATIONS.length; v++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[v] as string);
        this.db.pragma(`user_version = ${v + 1}`);
      })();
      this.log.info({ store: this.path, version: v + 1 }, 'store migrated');
    }
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  status(): { state: 'ok' | 'failing'; error: string | undefined; failingSinceMono: number | undefined } {
    return this.failure
      ? { state: 'failing', error: this.failure.error, failingSinceMono: this.failure.sinceMono }
      : { state: 'ok', error: undefined, failingSinceMono: undefined };
  }

  /** Writers report each write's outcome: a failed write marks the store failing until one succeeds. */
  reportWrite(error?: unknown): void {
    if (error === undefined) {
      if (this.failure) this.log.info({ store: this.path }, 'store writable again');
      this.failure = undefined;
      return;
    }
    const message = error instanceof Error ? error.message : String(error);
    if (!this.failure) this.log.error({ store: this.path, error: message }, 'store write failed');
    this.failure = { error: message, sinceMono: this.failure?.sinceMono ?? performance.now() };
  }

  addDeadLetter(deadLetter: DeadLetter): void {
    if (this.closed) {
      // Work that outlived its stop time limit: the store is gone, so the log is the only trace.
      const { payload, delivery: _delivery, ...rest } = deadLetter;
      this.log.error(
        { ...rest, payloadBase64: payload ? Buffer.from(payload).toString('base64') : undefined },
        'dead letter after the store closed (not stored)',
      );
      return;
    }
    this.deadLetterWriter.add(deadLetter);
  }

  /** Writes every pending dead letter now. */
  flush(): void {
    this.deadLetterWriter.flush();
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    this.deadLetterWriter.close();
    this.closed = true;
    this.db.close();
  }
}
