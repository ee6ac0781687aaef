/**
 * Small helpers shared by the engine node tests (not a test file itself): an engine whose
 * subscriptions are known to be active before the test publishes, dead-letter rows, a subscriber
 * that collects what it receives.
 */
import assert from 'node:assert/strict';
import type { MqttClient } from 'mqtt';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { FlowDocument } from '../../../shared/flow/flowDocument.js';
import { parseTopicFilter } from '../../../shared/topicFilter.js';
import type { NodeStatus } from '../../../main/engine/flowEngine.js';
import type { Logger } from '../../../main/engine/logger.js';
import { flowOf, startEngine, type EngineHarness } from '../../helpers/engineHarness.js';
import { waitFor } from '../../helpers/waitFor.js';

export interface LogRecord {
  readonly msg?: string;
  readonly [key: string]: unknown;
}

/** A pino logger whose JSON lines are kept in memory, so a test can wait for "subscribed". */
export function captureLogs(): { logger: Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      for (const line of String(chunk).split('\n')) if (line.trim()) records.push(JSON.parse(line) as LogRecord);
      callback();
    },
  });
  return { logger: pino({ level: 'info' }, stream), records };
}

export interface RunningFlow extends EngineHarness {
  readonly logs: LogRecord[];
  /** Counters and state of one node. */
  node(id: string): NodeStatus;
  deadLetters(): DeadLetterRow[];
}

export interface DeadLetterRow {
  readonly id: number;
  readonly at: number;
  readonly seq: number | null;
  readonly flow: string;
  readonly revision: string;
  readonly node: string;
  readonly reason: string;
  readonly topic: string | null;
  readonly qos: number | null;
  readonly payload: Buffer | null;
  readonly payload_size: number | null;
}

/**
 * Starts an engine on the flow and waits until the broker has acknowledged every mqtt-in
 * subscription (the engine logs "subscribed" on SUBACK), so nothing published afterwards is missed.
 */
export async function startFlow(
  url: string,
  nodes: FlowDocument['nodes'],
  edges: Array<[string, string, string, string?]>,
  options: { env?: Record<string, string>; extra?: Partial<FlowDocument> } = {},
): Promise<RunningFlow> {
  const { logger, records } = captureLogs();
  const harness = await startEngine(flowOf(url, nodes, edges, options.extra), {
    logger,
    ...(options.env ? { env: options.env } : {}),
  });
  const filters = nodes
    .filter((n) => n.type === 'mqtt-in')
    .map((n) => parseTopicFilter(String(n.config?.['topic'])).mqtt);
  try {
    await waitFor(
      `subscriptions ${filters.join(', ')}`,
      () => filters.every((f) => records.some((r) => r.msg === 'subscribed' && r['filter'] === f)),
      10_000,
    );
  } catch (error) {
    await harness.stop();
    throw error;
  }
  return {
    ...harness,
    logs: records,
    node(id) {
      const found = harness.engine.status().nodes.find((n) => n.id === id);
      if (!found) throw new Error(`no node "${id}" in the engine`);
      return found;
    },
    deadLetters: () => harness.rows<DeadLetterRow>('SELECT * FROM tf_dead_letters ORDER BY id'),
  };
}

/** Waits until `sql` returns exactly `count` rows; fails at once, showing them, when there are more. */
export async function waitForRows<T = Record<string, unknown>>(
  harness: Pick<EngineHarness, 'rows'>,
  sql: string,
  count: number,
  timeoutMs = 10_000,
): Promise<T[]> {
  let rows: T[] = [];
  await waitFor(
    `${count} rows from ${sql}`,
    () => {
      rows = harness.rows<T>(sql);
      if (rows.length < count) throw new Error(`${rows.length} rows so far`);
      return true;
    },
    timeoutMs,
  );
  assert.equal(rows.length, count, `expected ${count} rows from ${sql}, got ${JSON.stringify(rows)}`);
  return rows;
}

/** Lets the event loop run for `ms`: used only to show that nothing *more* arrives. */
export function settle(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Publishes each payload in order (mqtt.js keeps the order) and waits for every acknowledgement. */
export async function publishAll(
  client: MqttClient,
  topic: string,
  payloads: readonly (string | Buffer)[],
  qos: 0 | 1 | 2 = 1,
  retain = false,
): Promise<void> {
  await Promise.all(payloads.map((p) => client.publishAsync(topic, p, { qos, retain })));
}

export interface Received {
  readonly topic: string;
  readonly payload: Buffer;
  readonly qos: number;
  readonly retain: boolean;
}

/** Subscribes (MQTT 5, retain-as-published) and records every message that arrives. */
export async function collect(client: MqttClient, filter: string, qos: 0 | 1 | 2 = 2): Promise<Received[]> {
  const received: Received[] = [];
  client.on('message', (topic, payload, packet) => {
    received.push({ topic, payload, qos: packet.qos, retain: packet.retain });
  });
  await client.subscribeAsync(filter, { qos, rap: true });
  return received;
}
