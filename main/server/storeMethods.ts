/**
 * The store and dead-letter methods of the protocol (`store.tables`, `store.rows`,
 * `deadLetters.list/purge/replay`), split out of EngineService (engineService.ts), which
 * delegates to them.
 */
import {
  MAX_DEAD_LETTERS_PAGE,
  MAX_REPLAY_IDS,
  type ReplayOutcome,
  type ResultOf,
  type TableInfo,
} from '../../shared/protocol/protocol.js';
import type { FlowDocument } from '../../shared/flow/flowDocument.js';
import type { FlowEngine } from '../engine/flowEngine.js';
import type { ResolvedConnection } from '../engine/mqtt/connectionManager.js';
import { DeadLetterQueries, type DeadLetterRecord } from '../engine/store/deadLetters.js';
import { isPositiveInteger, optionalInt, optionalString, ProtocolFailure } from './protocolParams.js';

/** Bytes of a dead letter's payload shown as its preview. */
const PREVIEW_BYTES = 256;
/** How long a replayed message may wait for the broker's acknowledgement. */
const REPLAY_ACK_TIMEOUT_MS = 10_000;

export class StoreMethods {
  constructor(
    private readonly engine: FlowEngine,
    /** The deployed flow (replay goes through its connections) and whether it runs. */
    private readonly deployed: () => { readonly flow: FlowDocument | undefined; readonly running: boolean },
  ) {}

  private tableNames(): string[] {
    const rows = this.engine.store.db
      .prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
      )
      .all() as { name: string }[];
    return rows.map((r) => r.name);
  }

  private columnsOf(table: string): string[] {
    const info = this.engine.store.db.prepare(`SELECT name FROM pragma_table_info(?)`).all(table) as {
      name: string;
    }[];
    return info.map((c) => c.name);
  }

  tables(): TableInfo[] {
    return this.tableNames().map((name) => ({
      name,
      columns: this.columnsOf(name),
      rows: (this.engine.store.db.prepare(`SELECT count(*) AS n FROM ${quoteIdentifier(name)}`).get() as { n: number })
        .n,
    }));
  }

  rows(table: string, offset: number, limit: number): ResultOf<'store.rows'> {
    // Only a name read from sqlite_master reaches the SQL text, and quoted.
    if (!this.tableNames().includes(table)) {
      throw new ProtocolFailure('not-found', `store.rows: no table ${JSON.stringify(table)} in the store`);
    }
    const db = this.engine.store.db;
    const quoted = quoteIdentifier(table);
    const total = (db.prepare(`SELECT count(*) AS n FROM ${quoted}`).get() as { n: number }).n;
    const rows = db.prepare(`SELECT * FROM ${quoted} LIMIT ? OFFSET ?`).raw(true).all(limit, offset) as unknown[][];
    return {
      table,
      columns: this.columnsOf(table),
      rows: rows.map((row) =>
        row.map((v) => (Buffer.isBuffer(v) ? { base64: v.toString('base64') } : typeof v === 'bigint' ? String(v) : v)),
      ),
      offset,
      total,
    };
  }

  deadLetters(p: Record<string, unknown>): ResultOf<'deadLetters.list'> {
    const node = optionalString(p, 'node');
    const limit = optionalInt(p, 'limit', 1, MAX_DEAD_LETTERS_PAGE) ?? 100;
    const beforeId = optionalInt(p, 'beforeId', 1, Number.MAX_SAFE_INTEGER);
    const queries = new DeadLetterQueries(this.engine.store.db);
    const items = queries.list({ node, beforeId, limit }).map((d) => ({
      id: d.id,
      at: d.at,
      flow: d.flow,
      revision: d.revision,
      node: d.node,
      reason: d.reason,
      topic: d.topic,
      qos: d.qos,
      payloadSize: d.payloadSize,
      preview: d.payload ? d.payload.subarray(0, PREVIEW_BYTES).toString('utf8') : null,
      replayedAt: d.replayedAt,
    }));
    return { items, total: queries.count({ node }) };
  }

  purge(p: Record<string, unknown>): ResultOf<'deadLetters.purge'> {
    const ids = p['ids'];
    if (!Array.isArray(ids) || ids.length === 0 || ids.length > 10_000 || !ids.every(isPositiveInteger)) {
      throw new ProtocolFailure('invalid-params', 'deadLetters.purge: "ids" must be 1 to 10000 positive integers');
    }
    return { purged: new DeadLetterQueries(this.engine.store.db).purge({ ids }) };
  }

  /**
   * Publishes each letter's original bytes to its original topic through the engine's shared
   * connection of the deployed flow (the connection of the node that recorded it, else the first
   * connection an mqtt-in node uses, else the flow's first); the flow's subscription takes it in
   * again. Marked replayed only after the broker's acknowledgement (QoS 1, or 2 when it came at 2).
   */
  async replay(p: Record<string, unknown>): Promise<ReplayOutcome> {
    const ids = p['ids'];
    if (!Array.isArray(ids) || ids.length === 0 || ids.length > MAX_REPLAY_IDS || !ids.every(isPositiveInteger)) {
      throw new ProtocolFailure(
        'invalid-params',
        `deadLetters.replay: "ids" must be 1 to ${MAX_REPLAY_IDS} positive integers`,
      );
    }
    const flow = this.deployed().flow;
    if (!flow || !this.deployed().running) {
      throw new ProtocolFailure('engine-stopped', 'deadLetters.replay: no flow is deployed to replay into');
    }
    const queries = new DeadLetterQueries(this.engine.store.db);
    const records = queries.get(ids);
    const found = new Set(records.map((d) => d.id));
    const errors: { id: number; error: string }[] = [];
    for (const id of new Set(ids)) if (!found.has(id)) errors.push({ id, error: 'no such dead letter' });
    const acknowledged: number[] = [];
    for (const d of records) {
      const why = unreplayable(d);
      const connection = why === undefined ? replayConnection(flow, d.node) : undefined;
      if (why !== undefined || connection === undefined) {
        errors.push({ id: d.id, error: why ?? `the flow "${flow.name}" has no MQTT connection` });
        continue;
      }
      try {
        await this.publishOnce(connection, d.topic as string, d.payload as Buffer, d.qos === 2 ? 2 : 1);
        acknowledged.push(d.id);
      } catch (error) {
        errors.push({ id: d.id, error: error instanceof Error ? error.message : String(error) });
      }
    }
    // Only after the acknowledgements: a failure before this replays them again, never loses one.
    const replayed = acknowledged.length > 0 ? queries.markReplayed(acknowledged) : 0;
    errors.sort((a, b) => a.id - b.id);
    return { replayed, errors };
  }

  /** One acknowledged publish on the engine's shared connection (held for the publish only). */
  private async publishOnce(connection: ResolvedConnection, topic: string, payload: Buffer, qos: 1 | 2): Promise<void> {
    const shared = await this.engine.connections.acquire(connection);
    let timer: NodeJS.Timeout | undefined;
    try {
      if (shared.status().state !== 'connected') {
        throw new Error(`the connection "${connection.id}" is ${shared.status().state}, not connected`);
      }
      await Promise.race([
        shared.publish(topic, payload, qos, false),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no acknowledgement from the broker within ${REPLAY_ACK_TIMEOUT_MS} ms`)),
            REPLAY_ACK_TIMEOUT_MS,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
      await this.engine.connections.release(connection);
    }
  }
}

/** An SQL identifier in double quotes (embedded quotes doubled). */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Why a dead letter cannot be replayed as it was received, or undefined when it can. */
function unreplayable(d: DeadLetterRecord): string | undefined {
  if (d.topic === null || d.topic === '') return 'no topic (it did not come from MQTT)';
  if (d.payload === null) return 'no payload';
  if (d.payload.length === 0) return 'empty payload';
  if (d.payloadSize !== null && d.payloadSize > d.storedSize) {
    return `payload truncated (${d.storedSize} of ${d.payloadSize} bytes kept)`;
  }
  return undefined;
}

/** The connection a dead letter of `node` goes back through. */
export function replayConnection(flow: FlowDocument, node: string): ResolvedConnection | undefined {
  const byId = (id: unknown) => (typeof id === 'string' ? flow.connections.find((c) => c.id === id) : undefined);
  const own = byId(flow.nodes.find((n) => n.id === node)?.config?.['connection']);
  if (own) return own;
  for (const n of flow.nodes) {
    const used = n.type === 'mqtt-in' ? byId(n.config?.['connection']) : undefined;
    if (used) return used;
  }
  return flow.connections[0];
}
