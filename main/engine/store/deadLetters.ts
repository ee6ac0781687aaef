import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { STORE_FILE } from './store.js';

/** Pages of dead letters are bounded: a page holds at most this many unless asked for fewer. */
export const DEFAULT_PAGE_SIZE = 100;
/** The largest page a caller may ask for (each row may carry up to 1 MiB of payload). */
export const MAX_PAGE_SIZE = 10_000;

/** One row of `tf_dead_letters`. */
export interface DeadLetterRecord {
  readonly id: number;
  /** Wall clock when it was recorded, epoch ms. */
  readonly at: number;
  readonly seq: number | null;
  readonly flow: string;
  readonly revision: string;
  readonly node: string;
  readonly reason: string;
  readonly topic: string | null;
  readonly qos: number | null;
  /** The original bytes (at most the first 1 MiB); null when the list was asked without payloads. */
  readonly payload: Buffer | null;
  /** Size of the original payload, which may exceed what was kept. */
  readonly payloadSize: number | null;
  /** Bytes kept in `payload` (0 when there is none). */
  readonly storedSize: number;
  readonly replayedAt: number | null;
}

export interface DeadLetterFilter {
  /** Only dead letters recorded by this node. */
  readonly node?: string | undefined;
  /** Only these ids. */
  readonly ids?: readonly number[] | undefined;
  /** Only ids greater than this. */
  readonly sinceId?: number | undefined;
  /** Only ids smaller than this (the next page of a newest-first list). */
  readonly beforeId?: number | undefined;
  /** Only reasons containing this text (case-insensitive for ASCII). */
  readonly reason?: string | undefined;
  /** true: only already replayed; false: only never replayed. */
  readonly replayed?: boolean | undefined;
  /** Only dead letters recorded before this time (epoch ms, compared with `at`). */
  readonly before?: number | undefined;
}

export interface ListOptions extends DeadLetterFilter {
  /** At most this many rows (default 100, at most 10,000). */
  readonly limit?: number | undefined;
  /** 'newest' (default): highest id first; 'id': lowest id first. */
  readonly order?: 'newest' | 'id' | undefined;
  /** Read the payload bytes (default true); without them `payload` is null. */
  readonly payload?: boolean | undefined;
}

export interface PurgeOptions extends DeadLetterFilter {
  /** Required to delete with no filter at all, so an empty filter never deletes everything by mistake. */
  readonly all?: boolean | undefined;
}

interface Row {
  id: number;
  at: number;
  seq: number | null;
  flow: string;
  revision: string;
  node: string;
  reason: string;
  topic: string | null;
  qos: number | null;
  payload?: Buffer | null;
  payload_size: number | null;
  stored_size: number;
  replayed_at: number | null;
}

/** The store file is not there (the dead-letter commands never create one). */
export class StoreNotFoundError extends Error {
  constructor(readonly path: string) {
    super(`no TopicFlow store at ${path} (\`topicflow run\` creates it; is --data-dir right?)`);
    this.name = 'StoreNotFoundError';
  }
}

/**
 * Opens `<dataDir>/topicflow.db` for the dead-letter queries without creating it: WAL is the
 * engine's, so this works while `topicflow run` writes; writes wait up to `busyTimeoutMs`.
 */
export function openDeadLetterDb(
  dataDir: string,
  options: { readonly?: boolean; busyTimeoutMs?: number } = {},
): Database.Database {
  const path = join(dataDir, STORE_FILE);
  if (!existsSync(path)) throw new StoreNotFoundError(path);
  let db: Database.Database;
  try {
    db = new Database(path, {
      readonly: options.readonly ?? false,
      fileMustExist: true,
      timeout: options.busyTimeoutMs ?? 5000,
    });
  } catch (error) {
    throw new Error(`cannot open the store ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  let hasTable: boolean;
  try {
    hasTable =
      db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'tf_dead_letters'").get() !== undefined;
  } catch (error) {
    db.close();
    throw new Error(`cannot read the store ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!hasTable) {
    db.close();
    throw new Error(`${path} has no tf_dead_letters table: not a TopicFlow store`);
  }
  return db;
}

function checkId(id: number): number {
  if (!Number.isSafeInteger(id) || id < 1) throw new RangeError(`not a dead-letter id: ${String(id)}`);
  return id;
}

/** Queries over the engine's `tf_dead_letters` table (the CLI's and the editor's). */
export class DeadLetterQueries {
  constructor(private readonly db: Database.Database) {}

  private where(filter: DeadLetterFilter): { sql: string; params: unknown[] } {
    const clauses: string[] = [];
    const params: unknown[] = [];
    if (filter.node !== undefined) {
      clauses.push('node = ?');
      params.push(filter.node);
    }
    if (filter.ids !== undefined) {
      const ids = [...new Set(filter.ids.map(checkId))];
      if (ids.length === 0) clauses.push('0');
      else {
        // json_each: any number of ids in one bound parameter.
        clauses.push('id IN (SELECT value FROM json_each(?))');
        params.push(JSON.stringify(ids));
      }
    }
    if (filter.sinceId !== undefined) {
      clauses.push('id > ?');
      params.push(filter.sinceId);
    }
    if (filter.beforeId !== undefined) {
      clauses.push('id < ?');
      params.push(filter.beforeId);
    }
    if (filter.reason !== undefined && filter.reason !== '') {
      // instr on lower(): a literal substring, no LIKE wildcards to escape.
      clauses.push('instr(lower(reason), lower(?)) > 0');
      params.push(filter.reason);
    }
    if (filter.replayed !== undefined)
      clauses.push(filter.replayed ? 'replayed_at IS NOT NULL' : 'replayed_at IS NULL');
    if (filter.before !== undefined) {
      clauses.push('at < ?');
      params.push(filter.before);
    }
    return { sql: clauses.length > 0 ? ` WHERE ${clauses.join(' AND ')}` : '', params };
  }

  /** One page of dead letters matching the filter. */
  list(options: ListOptions = {}): DeadLetterRecord[] {
    const limit = options.limit ?? DEFAULT_PAGE_SIZE;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
      throw new RangeError(`limit must be an integer from 1 to ${MAX_PAGE_SIZE}, not ${String(limit)}`);
    }
    const { sql, params } = this.where(options);
    const payload = options.payload ?? true;
    const rows = this.db
      .prepare(
        `SELECT id, at, seq, flow, revision, node, reason, topic, qos, ${payload ? 'payload, ' : ''}payload_size,
                coalesce(length(payload), 0) AS stored_size, replayed_at
         FROM tf_dead_letters${sql} ORDER BY id ${options.order === 'id' ? 'ASC' : 'DESC'} LIMIT ?`,
      )
      .all(...params, limit) as Row[];
    return rows.map(toRecord);
  }

  /** How many dead letters match the filter. */
  count(filter: DeadLetterFilter = {}): number {
    const { sql, params } = this.where(filter);
    return (this.db.prepare(`SELECT count(*) AS n FROM tf_dead_letters${sql}`).get(...params) as { n: number }).n;
  }

  /** The dead letters with these ids (those that exist), by id. */
  get(ids: readonly number[]): DeadLetterRecord[] {
    const out: DeadLetterRecord[] = [];
    const unique = [...new Set(ids.map(checkId))].sort((a, b) => a - b);
    for (let i = 0; i < unique.length; i += MAX_PAGE_SIZE) {
      const chunk = unique.slice(i, i + MAX_PAGE_SIZE);
      out.push(...this.list({ ids: chunk, order: 'id', limit: chunk.length }));
    }
    return out;
  }

  /** Marks dead letters replayed at `at` (call only once the broker acknowledged them); returns how many. */
  markReplayed(ids: readonly number[], at: number = Date.now()): number {
    const update = this.db.prepare('UPDATE tf_dead_letters SET replayed_at = ? WHERE id = ?');
    return this.db.transaction(() => {
      let changed = 0;
      for (const id of ids) changed += update.run(at, checkId(id)).changes;
      return changed;
    })();
  }

  /** Deletes the dead letters matching the filter (every one only with `all: true`); returns how many. */
  purge(options: PurgeOptions): number {
    const { sql, params } = this.where(options);
    if (sql === '' && options.all !== true) {
      throw new Error('purge needs a filter (node, ids, replayed, before) or all: true');
    }
    return this.db.prepare(`DELETE FROM tf_dead_letters${sql}`).run(...params).changes;
  }
}

function toRecord(row: Row): DeadLetterRecord {
  return {
    id: row.id,
    at: row.at,
    seq: row.seq,
    flow: row.flow,
    revision: row.revision,
    node: row.node,
    reason: row.reason,
    topic: row.topic,
    qos: row.qos,
    payload: row.payload ?? null,
    payloadSize: row.payload_size,
    storedSize: row.stored_size,
    replayedAt: row.replayed_at,
  };
}
