import Database from 'better-sqlite3';
import { connectAsync, type MqttClient } from 'mqtt';
import { join } from 'node:path';
import type { FlowDocument } from '../../shared/flow/flowDocument.js';
import { FlowEngine, revisionOf, type DeployResult } from '../../main/engine/flowEngine.js';
import { checkFlow, formatProblems, resolveFlow } from '../../main/engine/flowLoader.js';
import { STORE_FILE } from '../../main/engine/store/store.js';
import { silentLogger, type Logger } from '../../main/engine/logger.js';
import { tempDir } from './paths.js';

export interface EngineHarness {
  readonly engine: FlowEngine;
  readonly dataDir: string;
  readonly result: DeployResult;
  /** A second connection to the store file, for assertions. */
  readonly db: Database.Database;
  /** Validates (as `topicflow run` does), resolves and deploys another version of the flow. */
  deploy(flow: unknown): Promise<DeployResult>;
  /** Rows of a query against the store. */
  rows<T = Record<string, unknown>>(sql: string, ...params: unknown[]): T[];
  stop(): Promise<void>;
}

/** Validates a flow document the way the CLI does and throws with every problem when invalid. */
export function validFlow(flow: unknown, env: Record<string, string> = {}): FlowDocument {
  const result = checkFlow(flow, { lookup: (name) => env[name] });
  if (!result.ok) throw new Error(`test flow is invalid:\n${formatProblems(result.problems)}`);
  return result.flow;
}

/** Runs a flow in an engine of its own, against a fresh data directory. */
export async function startEngine(
  flow: unknown,
  options: { env?: Record<string, string>; logger?: Logger; stopTimeoutMs?: number } = {},
): Promise<EngineHarness> {
  const env = options.env ?? {};
  const dir = tempDir('topicflow-engine-');
  const engine = FlowEngine.open({
    dataDir: dir.path,
    logger: options.logger ?? silentLogger(),
    stopTimeoutMs: options.stopTimeoutMs ?? 5000,
  });
  const deploy = (next: unknown): Promise<DeployResult> => {
    const valid = validFlow(next, env);
    return engine.deploy(
      resolveFlow(valid, (name) => env[name]),
      revisionOf(valid),
    );
  };
  let result: DeployResult;
  try {
    result = await deploy(flow);
  } catch (error) {
    await engine.stop();
    dir.cleanup();
    throw error;
  }
  const db = new Database(join(dir.path, STORE_FILE), { readonly: true, fileMustExist: true });
  let stopped = false;
  return {
    engine,
    dataDir: dir.path,
    result,
    db,
    deploy,
    rows: <T>(sql: string, ...params: unknown[]) => db.prepare(sql).all(...params) as T[],
    async stop() {
      if (stopped) return;
      stopped = true;
      await engine.stop();
      db.close();
      dir.cleanup();
    },
  };
}

/** An MQTT client for the test side (publishing inputs, watching outputs). */
export async function testClient(url: string, protocolVersion: 4 | 5 = 5): Promise<MqttClient> {
  return connectAsync(url, { protocolVersion, reconnectPeriod: 0, connectTimeout: 5000 });
}

/** A minimal flow document around the given nodes and edges, on one connection. */
export function flowOf(
  url: string,
  nodes: FlowDocument['nodes'],
  edges: Array<[string, string, string, string?]>,
  extra: Partial<FlowDocument> = {},
): unknown {
  return {
    format: 'topicflow/flow@1',
    name: 'test flow',
    connections: [{ id: 'broker', url }],
    nodes,
    edges: edgesOf(edges),
    ...extra,
  };
}

/** Edges from `[from, fromPort, to, toPort = 'in']` tuples, with ids e0, e1, ... */
export function edgesOf(edges: ReadonlyArray<readonly [string, string, string, string?]>): FlowDocument['edges'] {
  return edges.map(([from, fromPort, to, toPort], i) => ({
    id: `e${i}`,
    from: { node: from, port: fromPort },
    to: { node: to, port: toPort ?? 'in' },
  }));
}
