import type { FlowConnection } from '../../../shared/flow/flowDocument.js';
import type { InferredSchema } from '../../../shared/protocol/explorerProtocol.js';

/** What "Create flow" puts on the canvas: mqtt-in → validate → sqlite-sink, and the connection. */
export interface FlowPlan {
  /** The flow's connections after the plan (the explorer's broker added when missing). */
  readonly connections: readonly FlowConnection[];
  readonly connectionAdded: boolean;
  readonly connectionId: string;
  readonly filter: string;
  readonly table: string;
  readonly mqttIn: Record<string, unknown>;
  readonly validate: Record<string, unknown>;
  readonly sink: Record<string, unknown>;
}

/** Columns the sink maps from top-level payload fields, at most (the node allows 200). */
export const MAX_MAPPED_COLUMNS = 30;
/** Built-in columns of the sink's row mode. */
const RESERVED_COLUMNS = new Set(['id', 'ts', 'topic', 'payload']);

/** The subscription filter for a topic, or for everything under it. */
export function filterFor(topic: string, subtree: boolean): string {
  if (!subtree) return topic;
  return topic === '' ? '#' : `${topic}/#`;
}

/** A SQL identifier from free text: `sensors/kitchen/temp` → `sensors_kitchen_temp`. */
export function identifierFrom(text: string, fallback: string, maxLength = 64): string {
  let id = text
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/_+/g, '_')
    .replace(/^_+|_+$/g, '');
  if (id === '') id = fallback;
  if (/^[0-9]/.test(id)) id = `t_${id}`;
  return id.slice(0, maxLength).replace(/_+$/, '');
}

/** The table for a topic's rows; never `tf_…`, which names the engine's own tables. */
export function tableNameFor(topic: string): string {
  const id = identifierFrom(topic.replace(/[+#]/g, ''), 'topic_data');
  return id.startsWith('tf_') ? `topic_${id}`.slice(0, 64) : id;
}

function sameEndpoint(a: FlowConnection, b: FlowConnection): boolean {
  if (a.embedded || b.embedded) return a.embedded !== undefined && b.embedded !== undefined;
  return (
    a.url === b.url &&
    (a.protocolVersion ?? 5) === (b.protocolVersion ?? 5) &&
    (a.username ?? '') === (b.username ?? '') &&
    (a.password ?? '') === (b.password ?? '')
  );
}

/** The flow's connection to the explorer's broker: one it has, or the explorer's added. */
export function planConnection(
  explorer: FlowConnection,
  flow: readonly FlowConnection[],
): { connections: readonly FlowConnection[]; id: string; added: boolean } {
  const sameId = flow.find((c) => c.id === explorer.id);
  if (sameId && sameEndpoint(sameId, explorer)) return { connections: flow, id: sameId.id, added: false };
  const other = flow.find((c) => sameEndpoint(c, explorer));
  if (other) return { connections: flow, id: other.id, added: false };
  let id = explorer.id;
  for (let n = 2; flow.some((c) => c.id === id); n++) id = `${explorer.id}-${n}`.slice(0, 64);
  // A flow's client id must not collide with the explorer's own session on the same broker.
  const { clientId: _clientId, ...rest } = explorer;
  return { connections: [...flow, { ...rest, id }], id, added: true };
}

function columnType(schema: unknown): 'integer' | 'real' | 'text' | 'any' | undefined {
  if (typeof schema !== 'object' || schema === null) return undefined;
  const type = (schema as { type?: unknown }).type;
  if (type === 'integer') return 'integer';
  if (type === 'number') return 'real';
  if (type === 'string') return 'text';
  if (type === 'boolean') return 'any';
  return undefined;
}

/** Mapped columns for the top-level scalar fields the schema declares. */
export function columnsFor(inferred: InferredSchema): { name: string; path: string; type: string; merge: false }[] {
  if (inferred.decode === 'number') return [{ name: 'value', path: 'payload', type: 'real', merge: false }];
  if (inferred.decode !== 'json') return [];
  const properties = (inferred.schema as { properties?: Record<string, unknown> } | null)?.properties;
  if (!properties || typeof properties !== 'object') return [];
  const columns: { name: string; path: string; type: string; merge: false }[] = [];
  const taken = new Set(RESERVED_COLUMNS);
  for (const [field, schema] of Object.entries(properties)) {
    if (columns.length >= MAX_MAPPED_COLUMNS) break;
    const type = columnType(schema);
    // A path segment may not contain a dot (the sink splits paths on dots).
    if (!type || field.includes('.') || field === '') continue;
    let name = identifierFrom(field, 'field');
    while (taken.has(name)) name = `${name}_`.slice(0, 64);
    taken.add(name);
    columns.push({ name, path: `payload.${field}`, type, merge: false });
  }
  return columns;
}

export function buildFlowPlan(
  explorer: FlowConnection,
  flowConnections: readonly FlowConnection[],
  topic: string,
  subtree: boolean,
  inferred: InferredSchema,
): FlowPlan {
  const connection = planConnection(explorer, flowConnections);
  const filter = filterFor(topic, subtree);
  const table = tableNameFor(topic);
  const columns = columnsFor(inferred);
  return {
    connections: connection.connections,
    connectionAdded: connection.added,
    connectionId: connection.id,
    filter,
    table,
    mqttIn: {
      connection: connection.id,
      topic: filter,
      qos: 1,
      decoding: inferred.decode,
      maxPayloadBytes: 1048576,
      maxDepth: 64,
    },
    validate: { schema: inferred.schema, allErrors: false },
    sink: {
      table,
      mode: 'row',
      columns,
      keys: [],
      // A number is all in `value`; other payloads are kept whole as JSON too.
      includePayload: inferred.decode !== 'number',
      dedupe: 'auto',
      dedupeWindow: 10000,
      batchSize: 1000,
    },
  };
}
