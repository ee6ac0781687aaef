import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { DeliveryHandle } from '../../../shared/message.js';
import type { Logger } from '../logger.js';
import { BatchWriter } from './batchWriter.js';

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
  private readonly deadLetterWriter: BatchWriter<DeadLetter>;
  private closed = false;
  private failure: { error: string; sinceMono: number } | undefined;
  /** Dead letters committed since the store was opened. */
  deadLettersRecorded = 0;

  private constructor(
    readonly path: string,
    private readonly log: Logger,
  ) {
    this.db = new Database(path, { timeout: 5000 });
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
    this.deadLetterWriter = new BatchWriter<DeadLetter>(500, (items) => {
      try {
        insertAll(items);
      } catch (error) {
        // Not released: their messages stay unacknowledged, so the broker redelivers them.
        this.log.error({ err: error, count: items.length }, 'could not record dead letters');
        return;
      }
      this.deadLettersRecorded += items.length;
      for (const d of items) d.delivery?.release();
    });
  }

  static open(dataDir: string, log: Logger): Store {
    mkdirSync(dataDir, { recursive: true });
    return new Store(join(dataDir, STORE_FILE), log);
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
    this.closed = true;
    this.db.close();
  }
}
