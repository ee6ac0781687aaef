import { isUtf8 } from 'node:buffer';
import Database from 'better-sqlite3';
import { matchTopic, parseTopicFilter, type TopicFilter } from '../../../shared/topicFilter.js';
import type { RecordingInfo, TopicMessageProperties } from '../../../shared/protocol/explorerProtocol.js';
import type { Logger } from '../logger.js';
import type { RecordTap } from './explorerConnection.js';

/**
 * Recording of selected topics of an explorer connection to SQLite (`<dataDir>/explorer.db`,
 * apart from the flows' store so the explorer never competes with a flow's sink for its writer).
 * Messages are queued in memory (bounded) and inserted in one transaction per short timer tick,
 * never one per message. Retention (age and row count) runs periodically. Recordings are rows of
 * a table, so the active ones resume when the engine starts again.
 */

export const DEFAULT_RECORDING_MAX_AGE_MS = 24 * 60 * 60 * 1000;
export const DEFAULT_RECORDING_MAX_ROWS = 1_000_000;
export const MAX_RECORDING_ROWS = 10_000_000;
/** Messages waiting for the next insert; beyond it they are dropped and counted. */
const MAX_PENDING = 100_000;
const MAX_PENDING_BYTES = 64 * 1024 * 1024;
/** Export output bound; `truncated` says when more rows matched. */
export const MAX_EXPORT_BYTES = 32 * 1024 * 1024;
export const DEFAULT_EXPORT_LIMIT = 10_000;
export const MAX_EXPORT_LIMIT = 1_000_000;
/** Rows an export looks at before giving up on a sparse filter (then `truncated`). */
const MAX_EXPORT_SCAN = 2_000_000;

export interface RecorderOptions {
  readonly flushMs?: number;
  readonly retentionMs?: number;
  /** Clock for retention (tests). */
  readonly now?: () => number;
}

interface Recording {
  connection: string;
  filters: string[];
  parsed: TopicFilter[];
  active: boolean;
  maxAgeMs: number;
  maxRows: number;
  rows: number;
  bytes: number;
}

interface Pending {
  connection: string;
  seq: number;
  topic: string;
  at: number;
  qos: number;
  retain: number;
  payload: Buffer;
  properties: string | null;
}

interface StoredRow {
  id: number;
  seq: number;
  topic: string;
  at: number;
  qos: number;
  retain: number;
  payload: Buffer;
  properties: string | null;
}

export class Recorder {
  private readonly db: Database.Database;
  private readonly recordings = new Map<string, Recording>();
  private pending: Pending[] = [];
  private pendingBytes = 0;
  private dropped = 0;
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly retentionTimer: NodeJS.Timeout;
  private readonly flushMs: number;
  private readonly now: () => number;
  private readonly insert: Database.Statement;
  private closed = false;

  constructor(
    readonly path: string,
    private readonly log: Logger,
    options: RecorderOptions = {},
  ) {
    this.flushMs = options.flushMs ?? 200;
    this.now = options.now ?? Date.now;
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.migrate();
    this.insert = this.db.prepare(
      'INSERT INTO tf_explorer_messages (connection, seq, topic, at, qos, retain, payload, properties) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const totals = new Map(
      (
        this.db
          .prepare(
            'SELECT connection, count(*) AS n, coalesce(sum(length(payload)), 0) AS b FROM tf_explorer_messages GROUP BY connection',
          )
          .all() as { connection: string; n: number; b: number }[]
      ).map((r) => [r.connection, r]),
    );
    const saved = this.db.prepare('SELECT * FROM tf_explorer_recordings').all() as {
      connection: string;
      filters: string;
      active: number;
      max_age_ms: number;
      max_rows: number;
    }[];
    for (const r of saved) {
      const filters = JSON.parse(r.filters) as string[];
      this.recordings.set(r.connection, {
        connection: r.connection,
        filters,
        parsed: filters.map((f) => parseTopicFilter(f)),
        active: r.active === 1,
        maxAgeMs: r.max_age_ms,
        maxRows: r.max_rows,
        rows: totals.get(r.connection)?.n ?? 0,
        bytes: totals.get(r.connection)?.b ?? 0,
      });
    }
    this.retentionTimer = setInterval(() => this.applyRetention(), options.retentionMs ?? 5000);
    this.retentionTimer.unref();
  }

  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version >= 1) return;
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS tf_explorer_recordings (
        connection TEXT PRIMARY KEY,
        filters TEXT NOT NULL,
        active INTEGER NOT NULL,
        max_age_ms INTEGER NOT NULL,
        max_rows INTEGER NOT NULL,
        started_at INTEGER NOT NULL
      );
      CREATE TABLE IF NOT EXISTS tf_explorer_messages (
        id INTEGER PRIMARY KEY,
        connection TEXT NOT NULL,
        seq INTEGER NOT NULL,
        topic TEXT NOT NULL,
        at INTEGER NOT NULL,
        qos INTEGER NOT NULL,
        retain INTEGER NOT NULL,
        payload BLOB NOT NULL,
        properties TEXT
      );
      CREATE INDEX IF NOT EXISTS tf_explorer_messages_topic ON tf_explorer_messages (connection, topic, id);
      CREATE INDEX IF NOT EXISTS tf_explorer_messages_at ON tf_explorer_messages (connection, at);
      PRAGMA user_version = 1;
    `);
  }

  list(): RecordingInfo[] {
    return [...this.recordings.values()].map((r) => this.info(r));
  }

  get(connection: string): RecordingInfo | undefined {
    const r = this.recordings.get(connection);
    return r ? this.info(r) : undefined;
  }

  private info(r: Recording): RecordingInfo {
    const span = this.db
      .prepare('SELECT min(at) AS oldest, max(at) AS newest FROM tf_explorer_messages WHERE connection = ?')
      .get(r.connection) as { oldest: number | null; newest: number | null };
    return {
      connection: r.connection,
      filters: r.filters,
      active: r.active,
      rows: r.rows,
      bytes: r.bytes,
      oldestAt: span.oldest,
      newestAt: span.newest,
      maxAgeMs: r.maxAgeMs,
      maxRows: r.maxRows,
    };
  }

  /** Starts (or changes) the recording of a connection; it stays active across restarts until stopped. */
  start(connection: string, filters: readonly string[], maxAgeMs: number, maxRows: number): RecordingInfo {
    const existing = this.recordings.get(connection);
    const r: Recording = {
      connection,
      filters: [...filters],
      parsed: filters.map((f) => parseTopicFilter(f)),
      active: true,
      maxAgeMs,
      maxRows,
      rows: existing?.rows ?? 0,
      bytes: existing?.bytes ?? 0,
    };
    this.recordings.set(connection, r);
    this.db
      .prepare(
        `INSERT INTO tf_explorer_recordings (connection, filters, active, max_age_ms, max_rows, started_at)
         VALUES (?, ?, 1, ?, ?, ?)
         ON CONFLICT (connection) DO UPDATE SET filters = excluded.filters, active = 1,
           max_age_ms = excluded.max_age_ms, max_rows = excluded.max_rows`,
      )
      .run(connection, JSON.stringify(r.filters), maxAgeMs, maxRows, this.now());
    this.log.info({ explorer: connection, filters: r.filters, maxAgeMs, maxRows }, 'explorer recording started');
    return this.info(r);
  }

  /** Stops recording (the rows stay, for export, until retention removes them). */
  stop(connection: string): RecordingInfo | undefined {
    const r = this.recordings.get(connection);
    if (!r) return undefined;
    this.flush();
    r.active = false;
    this.db.prepare('UPDATE tf_explorer_recordings SET active = 0 WHERE connection = ?').run(connection);
    this.log.info({ explorer: connection }, 'explorer recording stopped');
    return this.info(r);
  }

  /** The function a connection calls per message while its recording is active, else undefined. */
  tapFor(connection: string): RecordTap | undefined {
    const r = this.recordings.get(connection);
    if (!r || !r.active) return undefined;
    const parsed = r.parsed;
    return (topic, payload, qos, retain, properties, at, seq) => {
      let match = false;
      for (let i = 0; i < parsed.length; i++) {
        if (matchTopic(parsed[i] as TopicFilter, topic) !== undefined) {
          match = true;
          break;
        }
      }
      if (match) this.queue(connection, topic, payload, qos, retain, properties, at, seq);
    };
  }

  private queue(
    connection: string,
    topic: string,
    payload: Buffer,
    qos: number,
    retain: boolean,
    properties: TopicMessageProperties | undefined,
    at: number,
    seq: number,
  ): void {
    if (this.closed) return;
    if (this.pending.length >= MAX_PENDING || this.pendingBytes + payload.length > MAX_PENDING_BYTES) {
      if (this.dropped++ % 10_000 === 0) {
        this.log.warn(
          { explorer: connection, dropped: this.dropped },
          'explorer recording: queue full, message dropped',
        );
      }
      return;
    }
    this.pending.push({
      connection,
      seq,
      topic,
      at,
      qos,
      retain: retain ? 1 : 0,
      payload: Buffer.from(payload),
      properties: properties === undefined ? null : JSON.stringify(properties),
    });
    this.pendingBytes += payload.length;
    this.flushTimer ??= setTimeout(() => {
      this.flushTimer = undefined;
      this.flush();
    }, this.flushMs);
  }

  /** Inserts everything queued in one transaction. */
  flush(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.pending.length === 0 || this.closed) return;
    const batch = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    try {
      this.db.transaction(() => {
        for (const m of batch) {
          this.insert.run(m.connection, m.seq, m.topic, m.at, m.qos, m.retain, m.payload, m.properties);
          const r = this.recordings.get(m.connection);
          if (r) {
            r.rows++;
            r.bytes += m.payload.length;
          }
        }
      })();
    } catch (error) {
      this.log.error({ err: error, rows: batch.length }, 'explorer recording: insert failed, batch dropped');
    }
  }

  /** Deletes rows beyond each recording's age and count limits. */
  applyRetention(): void {
    if (this.closed) return;
    this.flush();
    const now = this.now();
    for (const r of this.recordings.values()) {
      if (r.maxAgeMs > 0) this.deleteWhere(r, 'at < ?', now - r.maxAgeMs);
      if (r.rows > r.maxRows) {
        const edge = this.db
          .prepare('SELECT id FROM tf_explorer_messages WHERE connection = ? ORDER BY id DESC LIMIT 1 OFFSET ?')
          .get(r.connection, r.maxRows) as { id: number } | undefined;
        if (edge) this.deleteWhere(r, 'id <= ?', edge.id);
      }
    }
  }

  private deleteWhere(r: Recording, condition: string, value: number): void {
    const gone = this.db
      .prepare(
        `SELECT count(*) AS n, coalesce(sum(length(payload)), 0) AS b FROM tf_explorer_messages WHERE connection = ? AND ${condition}`,
      )
      .get(r.connection, value) as { n: number; b: number };
    if (gone.n === 0) return;
    this.db.prepare(`DELETE FROM tf_explorer_messages WHERE connection = ? AND ${condition}`).run(r.connection, value);
    r.rows -= gone.n;
    r.bytes -= gone.b;
  }

  /** True when a recording (active or not) of the connection has a filter matching `topic`. */
  covers(connection: string, topic: string): boolean {
    const r = this.recordings.get(connection);
    return r !== undefined && r.parsed.some((f) => matchTopic(f, topic) !== undefined);
  }

  /** The newest `limit` recorded messages of one topic received before `beforeAt`, oldest first. */
  topicRows(connection: string, topic: string, beforeAt: number, limit: number): { at: number; payload: Buffer }[] {
    this.flush();
    const rows = this.db
      .prepare(
        'SELECT at, payload FROM tf_explorer_messages WHERE connection = ? AND topic = ? AND at < ? ORDER BY id DESC LIMIT ?',
      )
      .all(connection, topic, beforeAt, limit) as { at: number; payload: Buffer }[];
    return rows.reverse();
  }

  /** Recorded messages as JSON Lines or CSV, oldest first, bounded by `limit` and MAX_EXPORT_BYTES. */
  export(
    connection: string,
    format: 'jsonl' | 'csv',
    options: { filter?: string; from?: number; to?: number; limit?: number } = {},
  ): { text: string; rows: number; truncated: boolean } {
    this.flush();
    const limit = options.limit ?? DEFAULT_EXPORT_LIMIT;
    const filter = options.filter === undefined ? undefined : parseTopicFilter(options.filter);
    const statement = this.db.prepare(
      'SELECT id, seq, topic, at, qos, retain, payload, properties FROM tf_explorer_messages WHERE connection = ? AND at >= ? AND at <= ? ORDER BY id',
    );
    const parts: string[] = format === 'csv' ? ['at,time,topic,qos,retain,payload,payload_base64\r\n'] : [];
    let bytes = parts[0]?.length ?? 0;
    let rows = 0;
    let scanned = 0;
    let truncated = false;
    for (const row of statement.iterate(
      connection,
      options.from ?? 0,
      options.to ?? Number.MAX_SAFE_INTEGER,
    ) as IterableIterator<StoredRow>) {
      if (++scanned > MAX_EXPORT_SCAN) {
        truncated = true;
        break;
      }
      if (filter && matchTopic(filter, row.topic) === undefined) continue;
      if (rows >= limit) {
        truncated = true;
        break;
      }
      const line = format === 'csv' ? csvLine(row) : jsonLine(row);
      if (bytes + line.length > MAX_EXPORT_BYTES) {
        truncated = true;
        break;
      }
      parts.push(line);
      bytes += line.length;
      rows++;
    }
    return { text: parts.join(''), rows, truncated };
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    clearInterval(this.retentionTimer);
    this.db.close();
  }
}

function jsonLine(row: StoredRow): string {
  const text = isUtf8(row.payload);
  return `${JSON.stringify({
    seq: row.seq,
    topic: row.topic,
    at: row.at,
    time: new Date(row.at).toISOString(),
    qos: row.qos,
    retain: row.retain === 1,
    ...(text ? { payload: row.payload.toString('utf8') } : { payloadBase64: row.payload.toString('base64') }),
    ...(row.properties !== null ? { properties: JSON.parse(row.properties) as unknown } : {}),
  })}\n`;
}

/** One RFC 4180 field: quoted when it holds a comma, a quote, CR or LF; quotes doubled. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

function csvLine(row: StoredRow): string {
  const text = isUtf8(row.payload);
  return `${[
    String(row.at),
    new Date(row.at).toISOString(),
    csvField(row.topic),
    String(row.qos),
    row.retain === 1 ? 'true' : 'false',
    text ? csvField(row.payload.toString('utf8')) : '',
    text ? '' : row.payload.toString('base64'),
  ].join(',')}\r\n`;
}
