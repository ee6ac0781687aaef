import assert from 'node:assert/strict';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { FlowDocument } from '../../../shared/flow/flowDocument.js';
import { revisionOf } from '../../../main/engine/flowEngine.js';
import { checkFlow } from '../../../main/engine/flowLoader.js';
import { flowOf, startEngine, validFlow } from '../../helpers/engineHarness.js';
import { waitFor } from '../../helpers/waitFor.js';
import { count, nodeStatus, sleep, within } from './support/engineHelpers.js';
import { captureLogs } from './support/logCapture.js';

import { LIMIT, debug, localFlow, mqttIn, nextStatus, simulator, sink, type Edge } from './support/flowFixtures.js';

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
