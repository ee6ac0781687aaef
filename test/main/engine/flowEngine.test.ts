import assert from 'node:assert/strict';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { MqttClient } from 'mqtt';
import type { FlowDocument } from '../../../shared/flow/flowDocument.js';
import { revisionOf, type EngineStatus } from '../../../main/engine/flowEngine.js';
import { checkFlow } from '../../../main/engine/flowLoader.js';
import { STORE_FILE } from '../../../main/engine/store/store.js';
import {
  edgesOf,
  flowOf,
  startEngine,
  testClient,
  validFlow,
  type EngineHarness,
} from '../../helpers/engineHarness.js';
import { startMosquitto, type Mosquitto } from '../../helpers/mosquitto.js';
import { waitFor } from '../../helpers/waitFor.js';
import { count, nodeStatus, publishAll, sleep, unique, within } from './support/engineHelpers.js';
import { captureLogs } from './support/logCapture.js';

type Node = FlowDocument['nodes'][number];
type Edge = [string, string, string, string?];

/** A backstop: every wait inside a test has its own, shorter bound. */
const LIMIT = { timeout: 30_000 };

/** A flow without any broker. */
function localFlow(nodes: Node[], edges: Edge[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    format: 'topicflow/flow@1',
    name: 'engine test',
    connections: [],
    nodes,
    edges: edgesOf(edges),
    ...extra,
  };
}

const simulator = (id: string, config: Record<string, unknown> = {}): Node => ({
  id,
  type: 'simulator',
  config: { mode: 'emit', devices: 2, intervalMs: 50, statusEvery: 1000, anomalyRate: 0, seed: 11, ...config },
});
const sink = (id: string, table: string, config: Record<string, unknown> = {}): Node => ({
  id,
  type: 'sqlite-sink',
  config: { table, ...config },
});
const debug = (id: string, maxPerSecond = 1000): Node => ({ id, type: 'debug', config: { maxPerSecond } });
const mqttIn = (id: string, topic: string, config: Record<string, unknown> = {}): Node => ({
  id,
  type: 'mqtt-in',
  config: { connection: 'broker', topic, qos: 1, ...config },
});

/** Resolves with the first 'status' event (sampled once a second) that satisfies `check`. */
function nextStatus(harness: EngineHarness, what: string, check: (s: EngineStatus) => boolean, timeoutMs = 8000) {
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

describe('deploy', () => {
  const flowA = localFlow(
    [simulator('sim'), sink('sinkA', 'a'), sink('sinkB', 'b'), debug('dbg')],
    [
      ['sim', 'out', 'sinkA'],
      ['sim', 'out', 'sinkB'],
      ['sim', 'out', 'dbg'],
    ],
    { layout: { nodes: { sim: { x: 0, y: 0 }, sinkA: { x: 200, y: 0 }, sinkB: { x: 200, y: 100 } } } },
  );
  // sinkA changes its config, dbg goes, sinkC comes; sim and sinkB stay as they are.
  const flowB = localFlow(
    [simulator('sim'), sink('sinkA', 'a', { batchSize: 10 }), sink('sinkB', 'b'), sink('sinkC', 'c')],
    [
      ['sim', 'out', 'sinkA'],
      ['sim', 'out', 'sinkB'],
      ['sim', 'out', 'sinkC'],
    ],
    { layout: { nodes: { sim: { x: 0, y: 0 }, sinkA: { x: 200, y: 0 }, sinkB: { x: 200, y: 100 } } } },
  );

  it('restarts only what changed and reports exactly added, changed, removed and unchanged', LIMIT, async () => {
    const logs = captureLogs();
    const harness = await startEngine(flowA, { logger: logs.logger });
    try {
      assert.deepEqual(
        {
          added: harness.result.added,
          changed: harness.result.changed,
          removed: harness.result.removed,
          unchanged: harness.result.unchanged,
          failed: harness.result.failed,
        },
        { added: ['sim', 'sinkA', 'sinkB', 'dbg'], changed: [], removed: [], unchanged: [], failed: [] },
      );
      assert.equal(harness.result.revision, revisionOf(validFlow(flowA)));
      await waitFor('20 messages through', () => nodeStatus(harness.engine, 'sinkB').counters.in >= 20, 10_000);
      const before = {
        sim: nodeStatus(harness.engine, 'sim').counters.out,
        sinkA: nodeStatus(harness.engine, 'sinkA').counters.in,
        sinkB: nodeStatus(harness.engine, 'sinkB').counters.in,
      };

      const result = await harness.deploy(flowB);
      assert.deepEqual(
        {
          added: result.added,
          changed: result.changed,
          removed: result.removed,
          unchanged: result.unchanged,
          failed: result.failed,
        },
        { added: ['sinkC'], changed: ['sinkA'], removed: ['dbg'], unchanged: ['sim', 'sinkB'], failed: [] },
      );
      assert.equal(result.revision, revisionOf(validFlow(flowB)));
      assert.notEqual(result.revision, harness.result.revision);

      const status = harness.engine.status();
      assert.equal(status.revision, result.revision);
      assert.deepEqual(status.nodes.map((n) => n.id).sort(), ['sim', 'sinkA', 'sinkB', 'sinkC']);
      // Unchanged nodes were not restarted: their counters carry on, the simulator started once.
      assert.ok(nodeStatus(harness.engine, 'sim').counters.out >= before.sim, 'sim counters were reset');
      assert.ok(nodeStatus(harness.engine, 'sinkB').counters.in >= before.sinkB, 'sinkB counters were reset');
      assert.equal(logs.find('simulator started', { node: 'sim' }).length, 1, 'the simulator was restarted');
      // The changed node is a new instance: its counters start again.
      assert.ok(
        nodeStatus(harness.engine, 'sinkA').counters.in < before.sinkA,
        `sinkA kept its counters (${nodeStatus(harness.engine, 'sinkA').counters.in} ≥ ${before.sinkA})`,
      );
      // Everything is wired as flow B says.
      const c0 = count(harness, 'c');
      const a0 = count(harness, 'a');
      const b0 = count(harness, 'b');
      await waitFor(
        'rows in a, b and the new c',
        () => count(harness, 'c') > c0 + 4 && count(harness, 'a') > a0 + 4 && count(harness, 'b') > b0 + 4,
        10_000,
      );
      assert.equal(count(harness, 'tf_dead_letters'), 0);
    } finally {
      await harness.stop();
    }
  });

  it('treats a layout-only change as no change at all', LIMIT, async () => {
    const logs = captureLogs();
    const harness = await startEngine(flowB, { logger: logs.logger });
    try {
      await waitFor('some messages', () => nodeStatus(harness.engine, 'sinkB').counters.in >= 4, 10_000);
      const before = nodeStatus(harness.engine, 'sinkB').counters.in;
      const moved = {
        ...flowB,
        layout: { nodes: { sim: { x: 500, y: 40 }, sinkC: { x: 900, y: 300 } }, viewport: { x: 1, y: 2, zoom: 1.5 } },
      };
      const result = await harness.deploy(moved);
      assert.deepEqual(
        { added: result.added, changed: result.changed, removed: result.removed, failed: result.failed },
        { added: [], changed: [], removed: [], failed: [] },
      );
      assert.deepEqual(result.unchanged, ['sim', 'sinkA', 'sinkB', 'sinkC']);
      assert.equal(result.revision, harness.result.revision);
      assert.ok(nodeStatus(harness.engine, 'sinkB').counters.in >= before);
      assert.equal(logs.find('simulator started').length, 1);
    } finally {
      await harness.stop();
    }
  });

  it('rewires unchanged nodes when only the edges change', LIMIT, async () => {
    const flow = (edges: Edge[]) => localFlow([simulator('sim'), sink('s1', 't1'), sink('s2', 't2')], edges);
    const harness = await startEngine(flow([['sim', 'out', 's1']]));
    try {
      await waitFor('rows in t1', () => count(harness, 't1') >= 4, 10_000);
      assert.equal(count(harness, 't2'), 0);
      const result = await harness.deploy(flow([['sim', 'out', 's2']]));
      assert.deepEqual(result.unchanged, ['sim', 's1', 's2']);
      assert.notEqual(result.revision, harness.result.revision, 'edges are part of the revision');
      const t1 = count(harness, 't1');
      await waitFor('rows in t2', () => count(harness, 't2') >= 4, 10_000);
      await sleep(150);
      assert.equal(count(harness, 't1'), t1, 't1 still receives after its edge was removed');
    } finally {
      await harness.stop();
    }
  });

  it('applies concurrent deploys one after another, in call order', LIMIT, async () => {
    const harness = await startEngine(localFlow([simulator('sim'), sink('s', 't')], [['sim', 'out', 's']]));
    try {
      const second = localFlow([simulator('sim', { devices: 3 }), sink('s', 't')], [['sim', 'out', 's']]);
      const third = localFlow([simulator('sim', { devices: 4 }), sink('s', 't')], [['sim', 'out', 's']]);
      const [r2, r3] = await Promise.all([harness.deploy(second), harness.deploy(third)]);
      assert.deepEqual(r2?.changed, ['sim']);
      assert.deepEqual(r3?.changed, ['sim']);
      assert.equal(harness.engine.status().revision, revisionOf(validFlow(third)));
      assert.equal(harness.engine.status().nodes.length, 2);
    } finally {
      await harness.stop();
    }
  });
});

describe('revisionOf', () => {
  const base = validFlow(
    flowOf('mqtt://127.0.0.1:1883', [mqttIn('in', 'a/#'), sink('store', 'readings')], [['in', 'out', 'store']], {
      layout: { nodes: { in: { x: 0, y: 0 } } },
      description: 'first',
    }),
  );

  it('is a short stable hash of what runs', () => {
    assert.match(revisionOf(base), /^[0-9a-f]{12}$/);
    assert.equal(revisionOf(base), revisionOf(structuredClone(base)));
  });

  it('ignores the flow name, its description and the layout', () => {
    assert.equal(revisionOf({ ...base, name: 'renamed' }), revisionOf(base));
    assert.equal(revisionOf({ ...base, description: 'second' }), revisionOf(base));
    assert.equal(revisionOf({ ...base, layout: { nodes: { in: { x: 300, y: 9 } } } }), revisionOf(base));
    const { layout: _layout, ...withoutLayout } = base;
    assert.equal(revisionOf(withoutLayout as FlowDocument), revisionOf(base));
  });

  it('changes with node config, nodes, edges and connections', () => {
    const changes: [string, FlowDocument][] = [
      [
        'a node config',
        {
          ...base,
          nodes: base.nodes.map((n) => (n.id === 'in' ? { ...n, config: { ...n.config, topic: 'b/#' } } : n)),
        },
      ],
      ['an added node', { ...base, nodes: [...base.nodes, { id: 'dbg', type: 'debug', config: {} }] }],
      ['a removed edge', { ...base, edges: [] }],
      ['a connection', { ...base, connections: base.connections.map((c) => ({ ...c, url: 'mqtt://127.0.0.1:1884' })) }],
    ];
    const seen = new Set([revisionOf(base)]);
    for (const [what, flow] of changes) {
      const revision = revisionOf(flow);
      assert.notEqual(revision, revisionOf(base), `${what} did not change the revision`);
      seen.add(revision);
    }
    assert.equal(seen.size, changes.length + 1);
  });
});

describe('with a broker', () => {
  let mosquitto: Mosquitto;
  let publisher: MqttClient;
  before(async () => {
    mosquitto = await startMosquitto();
    publisher = await testClient(mosquitto.url);
  });
  after(async () => {
    await publisher?.endAsync();
    await mosquitto?.stop();
  });

  const storeFlow = (topic: string) =>
    flowOf(
      mosquitto.url,
      [mqttIn('in', `${topic}/#`), sink('store', 'grace', { batchSize: 100_000 }), debug('dbg')],
      [
        ['in', 'out', 'store'],
        ['in', 'out', 'dbg'],
      ],
    );

  /**
   * Waits until the mqtt-in node "in" receives on `topic`, then until a last message is stored, so
   * nothing of the warm-up is still on its way. Returns the rows of `table` by then.
   */
  async function warmUp(harness: EngineHarness, topic: string, table: string, probe = '"probe"'): Promise<number> {
    await waitFor('the subscription', async () => {
      await publishAll(publisher, `${topic}/probe`, [probe]);
      return nodeStatus(harness.engine, 'in').counters.in > 0;
    });
    await publishAll(publisher, `${topic}/sync`, [probe]);
    await waitFor('the sync message', () => count(harness, table, 'topic = ?', `${topic}/sync`) === 1, 5000);
    return count(harness, table);
  }

  /** Publishes a steady stream (QoS 1, one every few ms) to `topic` while `during` runs. */
  async function streamWhile(topic: string, during: () => Promise<void>): Promise<void> {
    let done = false;
    const publishing = (async () => {
      for (let i = 0; i < 5000 && !done; i++) {
        await publisher.publishAsync(topic, JSON.stringify(i), { qos: 1 });
        await sleep(2);
      }
    })();
    try {
      await during();
    } finally {
      done = true;
      await publishing;
    }
  }

  /** Rows in the store file, read through a connection of its own after the engine closed it. */
  function rowsOnDisk(
    harness: EngineHarness,
    topic: string,
  ): { all: number; m: number; uniq: number; deadLetters: number } {
    const db = new Database(join(harness.dataDir, STORE_FILE), { readonly: true, fileMustExist: true });
    try {
      const sql = `SELECT (SELECT count(*) FROM grace) AS "all", count(*) AS m, count(DISTINCT payload) AS uniq,
                          (SELECT count(*) FROM tf_dead_letters) AS deadLetters
                   FROM grace WHERE topic = ?`;
      return db.prepare(sql).get(`${topic}/m`) as { all: number; m: number; uniq: number; deadLetters: number };
    } finally {
      db.close();
    }
  }

  it('stop() writes every accepted message to SQLite first', LIMIT, async () => {
    const N = 300;
    const topic = unique('grace');
    const harness = await startEngine(storeFlow(topic));
    try {
      const already = await warmUp(harness, topic, 'grace');

      // Stop from inside the delivery of the N-th message, while the sink still holds its batch.
      let shown = 0;
      let pendingAtStop = -1;
      let stopping: Promise<void> | undefined;
      harness.engine.events.on('debug', () => {
        if (++shown === N) {
          pendingAtStop = nodeStatus(harness.engine, 'store').pending;
          stopping = harness.engine.stop();
        }
      });
      await Promise.all(
        Array.from({ length: N }, (_, i) => publisher.publishAsync(`${topic}/m`, JSON.stringify(i), { qos: 1 })),
      );
      await waitFor('stop to begin', () => stopping !== undefined, 10_000);
      await within(10_000, 'engine.stop()', stopping as Promise<void>);
      assert.ok(pendingAtStop > 0, `the sink had nothing pending at stop (${pendingAtStop})`);
      const onDisk = rowsOnDisk(harness, topic);
      assert.equal(onDisk.m, N);
      assert.equal(onDisk.all, already + N);
      assert.equal(onDisk.uniq, N, 'a message was stored twice');
      assert.equal(onDisk.deadLetters, 0);
      assert.deepEqual(harness.engine.status().nodes, []);
    } finally {
      await harness.stop();
    }
  });

  it('stopping mid-stream loses nothing that entered the flow', LIMIT, async () => {
    const N = 100;
    const topic = unique('midstream');
    const harness = await startEngine(storeFlow(topic));
    try {
      const already = await warmUp(harness, topic, 'grace');
      let entered = 0;
      let stopping: Promise<void> | undefined;
      harness.engine.events.on('debug', () => {
        if (++entered === N) stopping = harness.engine.stop();
      });
      await streamWhile(`${topic}/m`, async () => {
        await waitFor('stop to begin', () => stopping !== undefined, 10_000);
        await within(10_000, 'engine.stop()', stopping as Promise<void>);
      });
      const onDisk = rowsOnDisk(harness, topic);
      assert.ok(entered >= N);
      assert.equal(onDisk.m, entered, `${entered} messages entered the flow, ${onDisk.m} were stored`);
      assert.equal(onDisk.all, already + entered);
      assert.equal(onDisk.uniq, onDisk.m, 'a message was stored twice');
      assert.equal(onDisk.deadLetters, 0, 'messages that entered while stopping were dead-lettered');
    } finally {
      await harness.stop();
    }
  });

  it('stops the sources first, so an asynchronous sink drains everything that entered', LIMIT, async () => {
    const received: string[] = [];
    const server = createHttpServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        setTimeout(() => {
          received.push(body);
          response.end('ok');
        }, 20);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ingest`;
    const topic = unique('drain');
    const harness = await startEngine(
      flowOf(
        mosquitto.url,
        [
          mqttIn('in', `${topic}/#`),
          { id: 'post', type: 'http-post', config: { url, timeoutMs: 5000, maxInFlight: 8 } },
          sink('store', 'grace'),
          debug('dbg'),
        ],
        [
          ['in', 'out', 'post'],
          ['in', 'out', 'store'],
          ['in', 'out', 'dbg'],
        ],
      ),
    );
    try {
      const already = await warmUp(harness, topic, 'grace');
      await waitFor('warm-up posts', () => received.length === already, 5000);
      let entered = 0;
      let stopping: Promise<void> | undefined;
      harness.engine.events.on('debug', () => {
        if (++entered === 40) stopping = harness.engine.stop();
      });
      await streamWhile(`${topic}/m`, async () => {
        await waitFor('stop to begin', () => stopping !== undefined, 10_000);
        await within(10_000, 'engine.stop()', stopping as Promise<void>);
      });
      const posted = received.slice(already);
      assert.equal(posted.length, entered, `${entered} messages entered the flow, ${posted.length} were posted`);
      assert.equal(new Set(posted).size, posted.length);
      assert.equal(rowsOnDisk(harness, topic).deadLetters, 0, 'messages that entered while stopping were lost');
    } finally {
      await harness.stop();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('counts in, out, errors and dropped per node', LIMIT, async () => {
    const topic = unique('counters');
    const harness = await startEngine(
      flowOf(
        mosquitto.url,
        [
          mqttIn('in', `${topic}/#`, { decoding: 'json' }),
          sink('store', 'counted', { columns: [{ name: 'v', path: 'payload.v', type: 'integer' }] }),
          debug('dbg', 1),
        ],
        [
          ['in', 'out', 'store'],
          ['in', 'out', 'dbg'],
        ],
      ),
    );
    try {
      await warmUp(harness, topic, 'counted', '{"v":0}');
      const at = (id: string) => nodeStatus(harness.engine, id).counters;
      const start = { in: at('in'), store: at('store'), dbg: at('dbg') };

      // 4 good, 1 the sink cannot store (v is not a number), 2 that are not JSON — all within one second.
      await publishAll(publisher, `${topic}/d`, [
        '{"v":1}',
        '{"v":2}',
        'not json',
        '{"v":3}',
        '{"v":"abc"}',
        '{"v":4',
        '{"v":5}',
      ]);
      await waitFor('7 more in', () => at('in').in === start.in.in + 7, 10_000);
      const delta = (id: 'in' | 'store' | 'dbg') => {
        const now = at(id);
        const then = start[id];
        return {
          in: now.in - then.in,
          out: now.out - then.out,
          errors: now.errors - then.errors,
          dropped: now.dropped - then.dropped,
        };
      };
      assert.deepEqual(delta('in'), { in: 7, out: 5, errors: 2, dropped: 0 });
      // A sink's out counts what it committed, which happens on the next idle turn.
      await waitFor('4 committed', () => delta('store').out === 4, 10_000);
      assert.deepEqual(delta('store'), { in: 5, out: 4, errors: 1, dropped: 0 });
      // debug shows 1 per second: the first of the burst (the window may already be open: 0 or 1).
      const d = delta('dbg');
      assert.equal(d.in, 5);
      assert.equal(d.errors, 0);
      assert.equal(d.out + d.dropped, 5);
      assert.ok(d.out <= 1 && d.dropped >= 4, JSON.stringify(d));

      await waitFor('rows', () => count(harness, 'counted', 'topic = ?', `${topic}/d`) === 4, 5000);
      harness.engine.store.flush();
      const letters = harness.rows<{ node: string; reason: string; payload: Buffer }>(
        'SELECT node, reason, payload FROM tf_dead_letters ORDER BY id',
      );
      assert.deepEqual(
        letters.map((l) => [l.node, l.payload.toString()]),
        [
          ['in', 'not json'],
          ['store', '{"v":"abc"}'],
          ['in', '{"v":4'],
        ],
      );
      assert.match(letters[1]?.reason ?? '', /not a number/);
    } finally {
      await harness.stop();
    }
  });
});

describe('rates', () => {
  it('reports messages per second while messages flow and 0 once they stop', LIMIT, async () => {
    const harness = await startEngine(
      localFlow(
        [simulator('sim', { devices: 4, intervalMs: 20, maxTicks: 100 }), sink('store', 't')],
        [['sim', 'out', 'store']],
      ),
    );
    try {
      const flowing = await nextStatus(harness, 'a positive rate', (s) =>
        s.nodes.some((n) => n.id === 'sim' && n.rates.out > 0),
      );
      const sim = flowing.nodes.find((n) => n.id === 'sim');
      const store = flowing.nodes.find((n) => n.id === 'store');
      // 4 devices every 20 ms is 200 messages a second at most (timers may run a little late).
      assert.ok(sim && sim.rates.out >= 60 && sim.rates.out <= 220, `sim out rate ${sim?.rates.out}`);
      assert.ok(store && Math.abs(store.rates.in - sim.rates.out) <= sim.rates.out * 0.1, 'sink rate');
      assert.equal(sim.rates.in, 0, 'a source has no input');

      // 100 ticks × 4 devices, plus a status message per device on tick 0.
      await waitFor('all ticks', () => nodeStatus(harness.engine, 'sim').counters.out === 404, 10_000);
      const idle = await nextStatus(harness, 'rates back at 0', (s) =>
        s.nodes.every((n) => n.rates.in === 0 && n.rates.out === 0),
      );
      assert.equal(idle.nodes.find((n) => n.id === 'store')?.counters.in, 404);
      assert.equal(count(harness, 't'), 404);
    } finally {
      await harness.stop();
    }
  });
});

describe('stop', () => {
  let server: HttpServer;
  let port: number;
  const requests: IncomingMessage[] = [];
  before(async () => {
    server = createHttpServer((request) => requests.push(request)); // never answers
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('gives up on a sink that does not drain after stopTimeoutMs', LIMIT, async () => {
    const logs = captureLogs();
    const stopTimeoutMs = 800;
    const harness = await startEngine(
      localFlow(
        [
          simulator('sim', { devices: 1, maxTicks: 1 }),
          {
            id: 'post',
            type: 'http-post',
            config: { url: `http://127.0.0.1:${port}/ingest`, timeoutMs: 60_000, maxInFlight: 1 },
          },
        ],
        [['sim', 'out', 'post']],
      ),
      { logger: logs.logger, stopTimeoutMs },
    );
    try {
      await waitFor('the request to hang', () => requests.length >= 1, 10_000);
      assert.ok(nodeStatus(harness.engine, 'post').pending >= 1);
      const started = Date.now();
      await within(10_000, 'engine.stop()', harness.engine.stop());
      const took = Date.now() - started;
      assert.ok(took >= stopTimeoutMs - 50, `stop() returned after ${took} ms without waiting for the sink`);
      assert.ok(took < stopTimeoutMs + 1500, `stop() took ${took} ms (stopTimeoutMs ${stopTimeoutMs})`);
      const warned = logs.find('node did not finish stopping in time');
      assert.equal(warned.length, 1, logs.dump());
      assert.equal(warned[0]?.['node'], 'post');
      assert.equal(warned[0]?.['timeoutMs'], stopTimeoutMs);
      assert.equal(logs.find('engine stopped').length, 1);
      // The hung request fails once the server lets go; that must not crash anything.
      server.closeAllConnections();
      await sleep(200);
    } finally {
      await harness.stop();
    }
  });
});

describe('invalid flows', () => {
  let fakeBroker: NetServer;
  let brokerUrl: string;
  let connections = 0;
  before(async () => {
    fakeBroker = createNetServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => fakeBroker.listen(0, '127.0.0.1', resolve));
    brokerUrl = `mqtt://127.0.0.1:${(fakeBroker.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise((resolve) => fakeBroker.close(resolve));
  });

  it('are refused with every problem and its pointer, and nothing starts', LIMIT, async () => {
    const flow = flowOf(
      brokerUrl,
      [
        mqttIn('in', 'a/#'),
        { id: 'mystery', type: 'no-such-node', config: {} },
        mqttIn('orphan', 'b/#', { connection: 'nope' }),
        sink('store', 'never'),
      ],
      [
        ['in', 'out', 'ghost'],
        ['in', 'out', 'store'],
      ],
    );
    const result = checkFlow(flow);
    assert.equal(result.ok, false);
    const pointers = result.problems.filter((p) => p.severity === 'error').map((p) => p.pointer);
    for (const pointer of ['/nodes/1/type', '/nodes/2/config/connection', '/edges/0/to/node']) {
      assert.ok(pointers.includes(pointer), `${pointer} missing from ${JSON.stringify(pointers)}`);
    }
    await assert.rejects(startEngine(flow), (error: Error) => {
      assert.match(error.message, /test flow is invalid/);
      for (const pointer of ['/nodes/1/type', '/nodes/2/config/connection', '/edges/0/to/node']) {
        assert.ok(error.message.includes(pointer), `${pointer} missing from: ${error.message}`);
      }
      return true;
    });
    await sleep(300);
    assert.equal(connections, 0, 'a node of the invalid flow connected to its broker');
  });

  it('are refused when only the engine checks fail (an expression that does not compile)', LIMIT, async () => {
    const flow = flowOf(
      brokerUrl,
      [mqttIn('in', 'a/#'), { id: 'f', type: 'filter', config: { predicate: 'temperature > (' } }, debug('d')],
      [
        ['in', 'out', 'f'],
        ['f', 'match', 'd'],
      ],
    );
    const result = checkFlow(flow);
    assert.equal(result.ok, false);
    assert.deepEqual(
      result.problems.map((p) => p.pointer),
      ['/nodes/1/config/predicate'],
    );
    await assert.rejects(startEngine(flow), /\/nodes\/1\/config\/predicate/);
    await sleep(300);
    assert.equal(connections, 0);
  });

  it('an unknown node type deployed directly leaves the running flow as it was', LIMIT, async () => {
    const logs = captureLogs();
    const good = localFlow([simulator('sim'), sink('s', 't')], [['sim', 'out', 's']]);
    const harness = await startEngine(good, { logger: logs.logger });
    try {
      const revision = harness.engine.status().revision;
      const bad = validFlow(good);
      const broken = {
        ...bad,
        name: 'broken',
        nodes: [...bad.nodes, { id: 'x', type: 'no-such-node', config: {} }],
      };
      await assert.rejects(harness.engine.deploy(broken), /unknown node type "no-such-node"/);
      const status = harness.engine.status();
      assert.equal(status.revision, revision);
      assert.equal(status.flow, 'engine test');
      assert.deepEqual(
        status.nodes.map((n) => n.id),
        ['sim', 's'],
      );
      const before = nodeStatus(harness.engine, 's').counters.in;
      await waitFor('the old flow still runs', () => nodeStatus(harness.engine, 's').counters.in > before + 2, 5000);
      assert.equal(logs.find('simulator started').length, 1);
      assert.equal(logs.find('flow deployed').length, 1);
    } finally {
      await harness.stop();
    }
  });
});
