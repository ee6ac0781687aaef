import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { MqttClient } from 'mqtt';
import { reconnectDelay } from '../../../../main/engine/mqtt/connectionManager.js';
import { flowOf, startEngine, testClient } from '../../../helpers/engineHarness.js';
import { freePort, startMosquitto, type Mosquitto } from '../../../helpers/mosquitto.js';
import { waitFor } from '../../../helpers/waitFor.js';
import {
  count,
  nodeStatus,
  onlyConnection,
  portOpen,
  publishAll,
  sleep,
  unique,
  within,
} from '../support/engineHelpers.js';
import { captureLogs, type LogLine } from '../support/logCapture.js';

import { Cleanup, LIMIT, connectsOf, mqttIn, sink } from '../support/connectionFixtures.js';

describe('reconnectDelay', () => {
  const ceilingOf = (attempt: number): number => Math.min(30_000, 1000 * 2 ** attempt);

  it('starts at about one second and doubles per attempt', () => {
    const top = () => 1;
    assert.deepEqual(
      [0, 1, 2, 3, 4].map((a) => reconnectDelay(a, top)),
      [1000, 2000, 4000, 8000, 16_000],
    );
    const bottom = () => 0;
    assert.deepEqual(
      [0, 1, 2, 3, 4].map((a) => reconnectDelay(a, bottom)),
      [500, 1000, 2000, 4000, 8000],
    );
  });

  it('is capped at 30 s however many attempts failed', () => {
    for (const attempt of [5, 6, 10, 11, 50, 1000, Number.MAX_SAFE_INTEGER]) {
      assert.equal(
        reconnectDelay(attempt, () => 1),
        30_000,
        `attempt ${attempt}, top of the jitter`,
      );
      assert.equal(
        reconnectDelay(attempt, () => 0),
        15_000,
        `attempt ${attempt}, bottom of the jitter`,
      );
    }
  });

  it('jitters within [ceiling / 2, ceiling] and follows the random source', () => {
    for (let attempt = 0; attempt <= 40; attempt++) {
      const ceiling = ceilingOf(attempt);
      for (const r of [0, 0.1, 0.25, 0.5, 0.75, 0.999, 0.999999]) {
        const delay = reconnectDelay(attempt, () => r);
        assert.ok(
          delay >= ceiling / 2 && delay <= ceiling,
          `attempt ${attempt}, random ${r}: ${delay} outside [${ceiling / 2}, ${ceiling}]`,
        );
        assert.ok(Math.abs(delay - (ceiling / 2 + r * (ceiling / 2))) <= 0.5, `attempt ${attempt}, random ${r}`);
      }
    }
    // Larger random values never give shorter delays.
    assert.ok(reconnectDelay(2, () => 0.2) < reconnectDelay(2, () => 0.8));
  });

  it('uses Math.random by default, so delays differ between clients', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const delay = reconnectDelay(0);
      assert.ok(delay >= 500 && delay <= 1000, `${delay} outside [500, 1000]`);
      seen.add(delay);
    }
    assert.ok(seen.size > 10, `only ${seen.size} distinct delays in 200 draws`);
  });
});

describe('connections to a real Mosquitto', () => {
  let mosquitto: Mosquitto;
  let publisher: MqttClient;

  before(async () => {
    // notice: Mosquitto logs each connection with its protocol level, e.g. "as <id> (p2, c1, k30)".
    // stderr: its stdout is block-buffered into the pipe, stderr is not.
    mosquitto = await startMosquitto({ extraConfig: 'log_type notice\nlog_dest stderr' });
    publisher = await testClient(mosquitto.url);
  });
  after(async () => {
    await publisher?.endAsync();
    await mosquitto?.stop();
  });

  for (const [protocolVersion, level] of [
    [5, 'p5'],
    [4, 'p2'],
  ] as const) {
    it(`delivers mqtt-in → sqlite-sink over MQTT protocol version ${protocolVersion}`, LIMIT, async () => {
      const clientId = unique(`tf-v${protocolVersion}`);
      const topic = unique(`proto${protocolVersion}`);
      const harness = await startEngine(
        flowOf(mosquitto.url, [mqttIn('in', `${topic}/#`), sink('store', 'readings')], [['in', 'out', 'store']], {
          connections: [{ id: 'broker', url: mosquitto.url, protocolVersion, clientId }],
        }),
      );
      try {
        assert.deepEqual(harness.result.failed, []);
        await waitFor('connected', () => onlyConnection(harness.engine).state === 'connected', 10_000);
        // The subscription is in place once a retained message comes back through it.
        await publishAll(publisher, `${topic}/probe`, ['0'], 1, true);
        await waitFor('the retained probe', () => count(harness, 'readings') >= 1, 10_000);
        await publishAll(
          publisher,
          `${topic}/dev1`,
          Array.from({ length: 5 }, (_, i) => JSON.stringify({ i })),
        );
        await waitFor('6 rows', () => count(harness, 'readings') === 6, 10_000);
        const rows = harness.rows<{ topic: string; payload: string }>(
          'SELECT topic, payload FROM readings WHERE topic = ? ORDER BY id',
          `${topic}/dev1`,
        );
        assert.deepEqual(
          rows.map((r) => JSON.parse(r.payload)),
          [0, 1, 2, 3, 4].map((i) => ({ i })),
        );
        // Mosquitto saw this client connect with the requested protocol level, exactly once.
        const seen = connectsOf(mosquitto, clientId);
        assert.equal(seen.length, 1, mosquitto.output());
        assert.match(seen[0] ?? '', new RegExp(`as ${clientId} \\(${level},`));
        assert.equal(onlyConnection(harness.engine).connects, 1);
      } finally {
        await publishAll(publisher, `${topic}/probe`, [''], 1, true); // clear the retained probe
        await harness.stop();
      }
    });
  }

  it('shares one client between mqtt-in nodes and changes subscriptions without reconnecting', LIMIT, async () => {
    const clientId = unique('tf-shared');
    const t = unique('shared');
    const connections = [{ id: 'broker', url: mosquitto.url, clientId }];
    const flowA = flowOf(
      mosquitto.url,
      [mqttIn('inA', `${t}/a/#`), mqttIn('inB', `${t}/b/#`), sink('store', 'shared_rows')],
      [
        ['inA', 'out', 'store'],
        ['inB', 'out', 'store'],
      ],
      { connections },
    );
    const flowB = flowOf(
      mosquitto.url,
      [mqttIn('inB', `${t}/b/#`), mqttIn('inC', `${t}/c/#`), sink('store', 'shared_rows')],
      [
        ['inB', 'out', 'store'],
        ['inC', 'out', 'store'],
      ],
      { connections },
    );
    const harness = await startEngine(flowA);
    try {
      await waitFor('connected', () => onlyConnection(harness.engine).state === 'connected', 10_000);
      await waitFor('two subscriptions', () => onlyConnection(harness.engine).subscriptions === 2, 5000);
      let connection = onlyConnection(harness.engine);
      assert.equal(connection.users, 2, 'both mqtt-in nodes use the one client');
      assert.equal(connection.connects, 1);

      // Retained probes prove each subscription is active before the live messages.
      await publishAll(publisher, `${t}/a/probe`, ['"a"'], 1, true);
      await publishAll(publisher, `${t}/b/probe`, ['"b"'], 1, true);
      await waitFor('both probes', () => count(harness, 'shared_rows') === 2, 10_000);
      await publishAll(publisher, `${t}/a/1`, ['1']);
      await publishAll(publisher, `${t}/b/1`, ['1']);
      await waitFor('a/1 and b/1', () => count(harness, 'shared_rows') === 4, 10_000);
      assert.equal(nodeStatus(harness.engine, 'inB').counters.in, 2);

      const result = await harness.deploy(flowB);
      assert.deepEqual(
        { added: result.added, changed: result.changed, removed: result.removed, unchanged: result.unchanged },
        { added: ['inC'], changed: [], removed: ['inA'], unchanged: ['inB', 'store'] },
      );
      assert.deepEqual(result.failed, []);
      await publishAll(publisher, `${t}/c/probe`, ['"c"'], 1, true);
      await waitFor(
        'c subscribed (its retained probe)',
        () => count(harness, 'shared_rows', 'topic = ?', `${t}/c/probe`) === 1,
        10_000,
      );

      // The removed filter stops delivering, the kept and the new ones deliver.
      await publishAll(publisher, `${t}/a/2`, ['2']);
      await publishAll(publisher, `${t}/b/2`, ['2']);
      await publishAll(publisher, `${t}/c/2`, ['2']);
      await waitFor(
        'b/2 and c/2',
        () => count(harness, 'shared_rows', 'topic IN (?, ?)', `${t}/b/2`, `${t}/c/2`) === 2,
        10_000,
      );
      await sleep(200); // a/2 was published first; give a late delivery a chance to show up
      assert.equal(count(harness, 'shared_rows', 'topic = ?', `${t}/a/2`), 0, 'the removed filter still delivers');

      connection = onlyConnection(harness.engine);
      assert.equal(connection.connects, 1, 'redeploying reconnected the client');
      assert.equal(connection.state, 'connected');
      assert.equal(connection.users, 2);
      assert.equal(connection.subscriptions, 2, 'the broker should hold b/# and c/# only');
      assert.equal(nodeStatus(harness.engine, 'inB').counters.in, 3, 'inB kept its counters (not restarted)');
      const connectsSeen = connectsOf(mosquitto, clientId);
      assert.equal(connectsSeen.length, 1, `Mosquitto saw these connects of ${clientId}: ${connectsSeen.join('\n')}`);
    } finally {
      for (const x of ['a', 'b', 'c']) await publishAll(publisher, `${t}/${x}/probe`, [''], 1, true);
      await harness.stop();
    }
  });

  it('keeps a filter subscribed while another node still uses it', LIMIT, async () => {
    const t = unique('dup');
    const connections = [{ id: 'broker', url: mosquitto.url }];
    const both = flowOf(
      mosquitto.url,
      [mqttIn('in1', `${t}/#`), mqttIn('in2', `${t}/#`), sink('s1', 'dup1'), sink('s2', 'dup2')],
      [
        ['in1', 'out', 's1'],
        ['in2', 'out', 's2'],
      ],
      { connections },
    );
    const harness = await startEngine(both);
    try {
      await waitFor('connected', () => onlyConnection(harness.engine).state === 'connected', 10_000);
      assert.equal(onlyConnection(harness.engine).subscriptions, 1, 'one broker subscription for one filter');
      assert.equal(onlyConnection(harness.engine).users, 2);
      await publishAll(publisher, `${t}/probe`, ['0'], 1, true);
      await waitFor('both nodes get it', () => count(harness, 'dup1') === 1 && count(harness, 'dup2') === 1, 10_000);

      const result = await harness.deploy(
        flowOf(mosquitto.url, [mqttIn('in1', `${t}/#`), sink('s1', 'dup1')], [['in1', 'out', 's1']], {
          connections,
        }),
      );
      assert.deepEqual([...result.removed].sort(), ['in2', 's2']);
      await sleep(100); // an UNSUBSCRIBE, had one been sent, would be processed by now
      await publishAll(publisher, `${t}/x`, ['1']);
      await waitFor('in1 still receives', () => count(harness, 'dup1') === 2, 10_000);
      assert.equal(onlyConnection(harness.engine).subscriptions, 1);
      assert.equal(onlyConnection(harness.engine).connects, 1);
    } finally {
      await publishAll(publisher, `${t}/probe`, [''], 1, true);
      await harness.stop();
    }
  });
});

describe('MQTT over WebSockets', () => {
  let mosquitto: Mosquitto;
  before(async () => {
    mosquitto = await startMosquitto({ websockets: true });
  });
  after(async () => {
    await mosquitto?.stop();
  });

  it('delivers through a ws:// connection', LIMIT, async () => {
    const wsUrl = mosquitto.wsUrl as string;
    assert.match(wsUrl, /^ws:\/\/127\.0\.0\.1:\d+$/);
    const harness = await startEngine(
      flowOf(wsUrl, [mqttIn('in', 'ws/#'), sink('store', 'ws_rows')], [['in', 'out', 'store']]),
    );
    const publisher = await testClient(mosquitto.url);
    try {
      await waitFor('connected over ws', () => onlyConnection(harness.engine).state === 'connected', 10_000);
      assert.equal(onlyConnection(harness.engine).url, wsUrl);
      await publishAll(publisher, 'ws/probe', ['"probe"'], 1, true);
      await waitFor('the probe', () => count(harness, 'ws_rows') === 1, 10_000);
      await publishAll(publisher, 'ws/dev', ['1', '2', '3']);
      await waitFor('4 rows', () => count(harness, 'ws_rows') === 4, 10_000);
      assert.deepEqual(
        harness
          .rows<{ payload: string }>("SELECT payload FROM ws_rows WHERE topic = 'ws/dev' ORDER BY id")
          .map((r) => r.payload),
        ['1', '2', '3'],
      );
    } finally {
      await publisher.endAsync();
      await harness.stop();
    }
  });
});

describe('an unreachable broker', () => {
  it('keeps the node up, retries with a growing delay and connects once the broker appears', LIMIT, async () => {
    const cleanup = new Cleanup();
    try {
      const port = await freePort();
      const url = `mqtt://127.0.0.1:${port}`;
      const logs = captureLogs();
      const started = Date.now();
      const harness = await startEngine(
        flowOf(url, [mqttIn('in', 'late/#'), sink('store', 'late_rows')], [['in', 'out', 'store']]),
        { logger: logs.logger },
      );
      cleanup.add(() => harness.stop());
      assert.ok(Date.now() - started < 3000, 'deploying waited for the broker');
      assert.deepEqual(harness.result.failed, []);
      assert.equal(nodeStatus(harness.engine, 'in').state, 'running');

      const retries = await waitFor(
        'three scheduled reconnects',
        () => {
          const found = logs.find('mqtt reconnect scheduled', { connection: 'broker' });
          return found.length >= 3 ? found : undefined;
        },
        10_000,
      );
      const connection = onlyConnection(harness.engine);
      assert.notEqual(connection.state, 'connected');
      assert.equal(connection.connects, 0);
      assert.match(connection.lastError ?? '', /ECONNREFUSED/);
      assert.ok(logs.find('mqtt error').some((l) => /ECONNREFUSED/.test(String(l['error']))));

      // Attempt k waits within [ceiling / 2, ceiling] of 1 s · 2^(k-1), and the logged delay is the real one.
      for (let k = 0; k < 3; k++) {
        const line = retries[k] as LogLine;
        assert.equal(line['attempt'], k + 1);
        const delay = line['retryInMs'] as number;
        assert.ok(delay >= 500 * 2 ** k && delay <= 1000 * 2 ** k, `attempt ${k + 1}: retryInMs ${delay}`);
        if (k < 2) {
          const gap = (retries[k + 1] as LogLine).time - line.time;
          assert.ok(
            gap >= delay - 50 && gap <= delay + 400,
            `attempt ${k + 2} came ${gap} ms after attempt ${k + 1}, which announced ${delay} ms`,
          );
        }
      }

      // A broker appears on that port: the client reconnects on its own (next retry ≤ 4 s away).
      const mosquitto = await startMosquitto({ extraConfig: `listener ${port} 127.0.0.1` });
      cleanup.add(() => mosquitto.stop());
      cleanup.add(() => harness.stop()); // before the broker goes away again
      const publisher = await testClient(mosquitto.url);
      cleanup.add(() => publisher.endAsync());
      await publishAll(publisher, 'late/probe', ['"retained"'], 1, true);
      await waitFor('reconnected', () => onlyConnection(harness.engine).state === 'connected', 10_000);
      await waitFor('the retained probe', () => count(harness, 'late_rows') === 1, 10_000);
      await publishAll(publisher, 'late/dev', ['1', '2']);
      await waitFor('live messages', () => count(harness, 'late_rows') === 3, 10_000);
      assert.equal(onlyConnection(harness.engine).connects, 1);
      assert.equal(onlyConnection(harness.engine).lastError, undefined);
      assert.equal(logs.find('mqtt connected').length, 1);
    } finally {
      await cleanup.run();
    }
  });
});

describe('a broker that is down', () => {
  it('does not hold up a redeploy or stop() while the client waits to reconnect', LIMIT, async () => {
    const url = `mqtt://127.0.0.1:${await freePort()}`;
    const logs = captureLogs();
    const harness = await startEngine(
      flowOf(
        url,
        [mqttIn('in1', 'down/1/#'), mqttIn('in2', 'down/2/#'), sink('store', 'down_rows')],
        [
          ['in1', 'out', 'store'],
          ['in2', 'out', 'store'],
        ],
      ),
      { logger: logs.logger, stopTimeoutMs: 5000 },
    );
    try {
      await waitFor('a failed attempt', () => logs.find('mqtt reconnect scheduled').length >= 1, 10_000);
      // Removing in2 unsubscribes its filter while offline.
      let started = Date.now();
      const result = await within(
        10_000,
        'the redeploy',
        harness.deploy(flowOf(url, [mqttIn('in1', 'down/1/#'), sink('store', 'down_rows')], [['in1', 'out', 'store']])),
      );
      assert.deepEqual(result.removed, ['in2']);
      assert.ok(Date.now() - started < 2000, `the redeploy took ${Date.now() - started} ms`);

      started = Date.now();
      await within(10_000, 'engine.stop()', harness.engine.stop());
      const took = Date.now() - started;
      assert.ok(took < 2000, `stop() took ${took} ms with the broker down (stopTimeoutMs is 5000)`);
      assert.deepEqual(logs.find('node did not finish stopping in time'), []);
      assert.equal(logs.find('engine stopped').length, 1);
    } finally {
      await harness.stop();
    }
  });
});

describe('the embedded broker', () => {
  it('runs simulator (publish) → mqtt-in → sqlite-sink with nothing external', LIMIT, async () => {
    const harness = await startEngine({
      format: 'topicflow/flow@1',
      name: 'embedded',
      connections: [{ id: 'local', embedded: { port: 0 } }],
      nodes: [
        {
          id: 'sim',
          type: 'simulator',
          config: { mode: 'publish', connection: 'local', devices: 3, intervalMs: 50, seed: 7 },
        },
        { id: 'in', type: 'mqtt-in', config: { connection: 'local', topic: 'fleet/{device}/#', qos: 1 } },
        {
          id: 'store',
          type: 'sqlite-sink',
          config: { table: 'fleet', columns: [{ name: 'device', path: 'params.device', type: 'text' }] },
        },
      ],
      edges: [{ id: 'e1', from: { node: 'in', port: 'out' }, to: { node: 'store', port: 'in' } }],
    });
    let port = 0;
    try {
      assert.deepEqual(harness.result.failed, []);
      const connection = onlyConnection(harness.engine);
      const match = /^mqtt:\/\/127\.0\.0\.1:(\d+)$/.exec(connection.url);
      assert.ok(match, `embedded url ${connection.url}`);
      port = Number(match[1]);
      assert.ok(port > 0, 'port 0 should become a real port');
      assert.equal(connection.users, 2, 'simulator and mqtt-in share the embedded connection');
      await waitFor('30 rows from 3 devices', () => count(harness, 'fleet') >= 30, 10_000);
      const devices = harness.rows<{ device: string }>('SELECT DISTINCT device FROM fleet ORDER BY device');
      assert.equal(devices.length, 3, JSON.stringify(devices));
      assert.ok(count(harness, 'fleet', "topic LIKE 'fleet/%/telemetry'") > 0);
      assert.ok(nodeStatus(harness.engine, 'sim').counters.out > 0);
      assert.equal(nodeStatus(harness.engine, 'in').counters.errors, 0);
    } finally {
      await harness.stop();
    }
    assert.equal(await portOpen(port), false, 'the embedded broker should stop with the engine');
  });
});
