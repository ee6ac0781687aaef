import type { FlowEngine, NodeStatus } from '../../../../main/engine/flowEngine.js';
import type { ConnectionStatus } from '../../../../main/engine/mqtt/connectionManager.js';
import type { EngineHarness } from '../../../helpers/engineHarness.js';

/** The status of one node; fails when the engine does not run it. */
export function nodeStatus(engine: FlowEngine, id: string): NodeStatus {
  const node = engine.status().nodes.find((n) => n.id === id);
  if (!node) throw new Error(`node "${id}" is not running (running: ${engine.status().nodes.map((n) => n.id)})`);
  return node;
}

/** The status of the only connection the engine holds; fails when it holds none or several. */
export function onlyConnection(engine: FlowEngine): ConnectionStatus {
  const all = engine.status().connections;
  if (all.length !== 1) throw new Error(`expected exactly one connection, got ${JSON.stringify(all)}`);
  return all[0] as ConnectionStatus;
}

export function count(harness: EngineHarness, table: string, where = '1', ...params: unknown[]): number {
  const [row] = harness.rows<{ n: number }>(`SELECT count(*) AS n FROM "${table}" WHERE ${where}`, ...params);
  return row?.n ?? 0;
}

export { publishAll } from '../engineTestKit.js';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export { portOpen } from '../../../helpers/mosquitto.js';

/** A short random suffix so that topics and client ids of different tests never meet. */
export function unique(prefix: string): string {
  return `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Resolves like `promise`, or rejects once `ms` passed, so that no await in a test is unbounded. */
export async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
