import type { FlowDocument } from '../../../../shared/flow/flowDocument.js';
import type { EngineStatus } from '../../../../main/engine/flowEngine.js';
import { edgesOf, type EngineHarness } from '../../../helpers/engineHarness.js';

/** Fixtures shared by the engine tests. */
export type Node = FlowDocument['nodes'][number];
export type Edge = [string, string, string, string?];

/** A backstop: every wait inside a test has its own, shorter bound. */
export const LIMIT = { timeout: 30_000 };

/** A flow without any broker. */
export function localFlow(nodes: Node[], edges: Edge[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    format: 'topicflow/flow@1',
    name: 'engine test',
    connections: [],
    nodes,
    edges: edgesOf(edges),
    ...extra,
  };
}

export const simulator = (id: string, config: Record<string, unknown> = {}): Node => ({
  id,
  type: 'simulator',
  config: { mode: 'emit', devices: 2, intervalMs: 50, statusEvery: 1000, anomalyRate: 0, seed: 11, ...config },
});
export const sink = (id: string, table: string, config: Record<string, unknown> = {}): Node => ({
  id,
  type: 'sqlite-sink',
  config: { table, ...config },
});
export const debug = (id: string, maxPerSecond = 1000): Node => ({ id, type: 'debug', config: { maxPerSecond } });
export const mqttIn = (id: string, topic: string, config: Record<string, unknown> = {}): Node => ({
  id,
  type: 'mqtt-in',
  config: { connection: 'broker', topic, qos: 1, ...config },
});

/** Resolves with the first 'status' event (sampled once a second) that satisfies `check`. */
export function nextStatus(
  harness: EngineHarness,
  what: string,
  check: (s: EngineStatus) => boolean,
  timeoutMs = 8000,
) {
  return new Promise<EngineStatus>((resolve, reject) => {
    const timer = setTimeout(() => {
      harness.engine.events.off('status', listener);
      reject(new Error(`no status event within ${timeoutMs} ms with ${what}`));
    }, timeoutMs);
    const listener = (status: EngineStatus): void => {
      if (!check(status)) return;
      clearTimeout(timer);
      harness.engine.events.off('status', listener);
      resolve(status);
    };
    harness.engine.events.on('status', listener);
  });
}
