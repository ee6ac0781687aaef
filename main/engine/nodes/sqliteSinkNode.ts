import type { Static } from '@sinclair/typebox';
import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { FlowMessage } from '../../../shared/message.js';
import type { COLUMN_TYPES } from '../../../shared/nodes/sqliteSink.js';
import { sqliteSinkSpec } from '../../../shared/nodes/sqliteSink.js';
import { readPath } from '../../../shared/topicTemplate.js';
import { DurableWriter, sinkWriterDefaults } from '../store/durableWriter.js';
import { errorMessage, implement, type NodeContext } from '../runtime/nodeRuntime.js';

type Config = Static<typeof sqliteSinkSpec.config>;
type ColumnType = (typeof COLUMN_TYPES)[number];
type SqlValue = number | string | bigint | Buffer | null;

const SQL_TYPES: Record<ColumnType, string> = {
  any: '',
  integer: 'INTEGER',
  real: 'REAL',
  text: 'TEXT',
  json: 'TEXT',
  blob: 'BLOB',
};

const q = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** Converts a value for a column of the given type; throws when it cannot. */
export function toSql(value: unknown, type: ColumnType, column: string): SqlValue {
  if (value === undefined || value === null) return type === 'json' ? 'null' : null;
  switch (type) {
    case 'json':
      return JSON.stringify(value);
    case 'integer':
    case 'real': {
      const n =
        typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
      if (typeof value === 'boolean') return value ? 1 : 0;
      if (!Number.isFinite(n)) throw new Error(`column "${column}": ${JSON.stringify(value)} is not a number`);
      return type === 'integer' ? Math.trunc(n) : n;
    }
    case 'text':
      return typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
    case 'blob':
      if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
      if (typeof value === 'string') return Buffer.from(value, 'utf8');
      throw new Error(`column "${column}": a ${typeof value} cannot be stored as a blob`);
    case 'any':
      if (typeof value === 'number' || typeof value === 'string' || typeof value === 'bigint') return value;
      if (typeof value === 'boolean') return value ? 1 : 0;
      if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
      return JSON.stringify(value);
  }
}

interface Layout {
  readonly create: string[];
  readonly required: readonly string[];
  readonly insert: string;
  /** Rows for one message; a message may make several (attributes mode) or none. */
  rows(message: FlowMessage): SqlValue[][];
}

function layoutFor(config: Config): Layout {
  const table = q(config.table);
  const mapped = config.columns.map((c) => ({ ...c, parts: c.path.split('.') }));
  const mappedValues = (message: FlowMessage): SqlValue[] =>
    mapped.map((c) => toSql(readPath(message, c.parts), c.type, c.name));
  const columnDefs = mapped.map((c) => `${q(c.name)}${SQL_TYPES[c.type] ? ` ${SQL_TYPES[c.type]}` : ''}`);

  if (config.mode === 'row') {
    const names = ['ts', 'topic', ...(config.includePayload ? ['payload'] : []), ...mapped.map((c) => c.name)];
    return {
      create: [
        `CREATE TABLE IF NOT EXISTS ${table} (id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, topic TEXT NOT NULL${
          config.includePayload ? ', payload TEXT' : ''
        }${columnDefs.map((d) => `, ${d}`).join('')})`,
        `CREATE INDEX IF NOT EXISTS ${q(`${config.table}_ts`)} ON ${table}(ts)`,
      ],
      required: names,
      insert: `INSERT INTO ${table} (${names.map(q).join(', ')}) VALUES (${names.map(() => '?').join(', ')})`,
      // One array per row, filled in place: this runs for every message (see `npm run bench`).
      rows: (m) => {
        const row: SqlValue[] = [m.receivedAt, m.topic];
        if (config.includePayload) {
          row.push(toSql(m.payload, m.payload instanceof Uint8Array ? 'blob' : 'json', 'payload'));
        }
        for (const c of mapped) row.push(toSql(readPath(m, c.parts), c.type, c.name));
        return [row];
      },
    };
  }

  if (config.mode === 'attributes') {
    const names = ['msg_id', 'topic', 'attribute', 'value', 'ts'];
    return {
      create: [
        `CREATE TABLE IF NOT EXISTS ${table} (id INTEGER PRIMARY KEY, msg_id TEXT NOT NULL, topic TEXT NOT NULL, attribute TEXT NOT NULL, value, ts INTEGER NOT NULL)`,
        `CREATE INDEX IF NOT EXISTS ${q(`${config.table}_msg`)} ON ${table}(msg_id)`,
      ],
      required: names,
      insert: `INSERT INTO ${table} (msg_id, topic, attribute, value, ts) VALUES (?, ?, ?, ?, ?)`,
      rows: (m) => {
        const p = m.payload;
        if (p === null || typeof p !== 'object' || Array.isArray(p) || p instanceof Uint8Array) {
          throw new Error('attributes mode needs a JSON object payload');
        }
        return Object.entries(p).map(([attribute, value]) => [
          m.id,
          m.topic,
          attribute,
          toSql(value, 'any', attribute),
          m.receivedAt,
        ]);
      },
    };
  }

  const names = mapped.map((c) => c.name);
  const keys = new Set(config.keys);
  const updates = mapped
    .filter((c) => !keys.has(c.name))
    .map((c) =>
      c.merge
        ? `${q(c.name)} = json_patch(coalesce(${table}.${q(c.name)}, '{}'), excluded.${q(c.name)})`
        : `${q(c.name)} = excluded.${q(c.name)}`,
    );
  return {
    create: [
      `CREATE TABLE IF NOT EXISTS ${table} (${columnDefs.join(', ')}, PRIMARY KEY (${config.keys.map(q).join(', ')}))`,
    ],
    required: names,
    insert: `INSERT INTO ${table} (${names.map(q).join(', ')}) VALUES (${names.map(() => '?').join(', ')}) ON CONFLICT (${config.keys
      .map(q)
      .join(', ')}) DO ${updates.length > 0 ? `UPDATE SET ${updates.join(', ')}` : 'NOTHING'}`,
    rows: (m) => [mappedValues(m)],
  };
}

function prepareTable(db: Database.Database, config: Config, layout: Layout): void {
  for (const sql of layout.create) db.exec(sql);
  const existing = new Set(
    (db.prepare(`PRAGMA table_info(${q(config.table)})`).all() as { name: string }[]).map((c) => c.name.toLowerCase()),
  );
  const missing = layout.required.filter((name) => !existing.has(name.toLowerCase()));
  if (missing.length > 0) {
    throw new Error(
      `table "${config.table}" already exists without column(s) ${missing.join(', ')}; use another table name or migrate it`,
    );
  }
}

interface Pending {
  readonly message: FlowMessage;
  readonly rows: SqlValue[][];
  /** Identifies the message for dedupe; undefined: always written. */
  readonly key: Buffer | undefined;
  /** Set in the transaction: false when the key was seen before (a redelivery, not written again). */
  written: boolean;
}

/** The dedupe key of a message, per the node's `dedupe` setting. */
function dedupeKeyOf(setting: string): (message: FlowMessage) => Buffer | undefined {
  if (setting === 'off') return () => undefined;
  if (setting === 'auto') {
    return (m) => {
      // Only a broker's QoS 1/2 delivery can come again; it comes with the same packet id.
      if (m.packetId === undefined || m.connection === undefined) return undefined;
      const hash = createHash('sha1').update(`${m.connection}\u0000${m.packetId}\u0000${m.topic}\u0000`);
      if (m.raw) hash.update(m.raw);
      return hash.digest();
    };
  }
  const parts = setting.split('.');
  return (m) => {
    const value = readPath(m, parts);
    if (value === undefined || value === null) return undefined;
    return createHash('sha1')
      .update(typeof value === 'string' ? `s${value}` : `j${JSON.stringify(value)}`)
      .digest();
  };
}

function createSink(ctx: NodeContext<Config>) {
  const db = ctx.services.store.db;
  const layout = layoutFor(ctx.config);
  const keyOf = dedupeKeyOf(ctx.config.dedupe);
  const window = ctx.config.dedupeWindow;
  let writeAll: ((items: Pending[]) => void) | undefined;
  let duplicates = 0;

  const writer = new DurableWriter<Pending>({
    batchSize: ctx.config.batchSize,
    write: (items) => (writeAll as (items: Pending[]) => void)(items),
    committed: (items) => {
      // Counts out on commit; releasing lets each message be acknowledged (a redelivery too).
      for (const item of items) {
        if (item.written) ctx.counters.out++;
        else duplicates++;
        item.message.delivery?.release();
      }
    },
    rejected: (item, error) => {
      ctx.deadLetter(item.message, `sqlite-sink "${ctx.config.table}": ${errorMessage(error)}`);
      item.message.delivery?.release();
    },
    ...sinkWriterDefaults({ store: ctx.services.store, log: ctx.log, counters: ctx.counters }),
  });

  return {
    start() {
      prepareTable(db, ctx.config, layout);
      const statement = db.prepare(layout.insert);
      const seen = db.prepare('INSERT OR IGNORE INTO tf_seen (sink, key, n) VALUES (?, ?, ?)');
      const forget = db.prepare('DELETE FROM tf_seen WHERE sink = ? AND n <= ?');
      let n = (db.prepare('SELECT max(n) AS n FROM tf_seen WHERE sink = ?').get(ctx.id) as { n: number | null }).n ?? 0;
      let forgotten = n;
      writeAll = db.transaction((items: Pending[]) => {
        for (const item of items) {
          // The key commits with the rows: a message is either written with its key or not at all.
          item.written = item.key === undefined || seen.run(ctx.id, item.key, ++n).changes > 0;
          if (item.written) for (const row of item.rows) statement.run(row);
        }
        // Keep the last `window` keys, pruning in steps of a tenth of it.
        if (n - forgotten > window + window / 10) {
          forgotten = n - window;
          forget.run(ctx.id, forgotten);
        }
      });
    },
    onInput(message: FlowMessage) {
      if (!writeAll) throw new Error('sqlite-sink is not started');
      const rows = layout.rows(message);
      message.delivery?.hold();
      writer.add({ message, rows, key: keyOf(message), written: false });
    },
    pending: () => writer.pending,
    stop() {
      writer.flush();
      if (duplicates > 0) ctx.log.info({ duplicates }, 'sqlite-sink skipped redelivered messages');
      return writer.idle().finally(() => writer.close());
    },
  };
}

export const sqliteSinkNode = implement({ spec: sqliteSinkSpec, create: createSink });
