import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { freePort } from '../../../helpers/mosquitto.js';
import { FleetModel } from '../../../../main/engine/simulator/fleetModel.js';
import { flowOf, startEngine, testClient } from '../../../helpers/engineHarness.js';
import { brokerFixture } from '../../../helpers/brokerFixture.js';
import { waitFor } from '../../../helpers/waitFor.js';
import { collect, settle, startFlow, waitForRows } from '../engineTestKit.js';

const fixture = brokerFixture();

describe('simulator', () => {
  it('emits into the flow, stops after maxTicks, with the values of its seeded fleet model', async (t) => {
    const config = {
      mode: 'emit',
      devices: 3,
      profiles: ['sensor', 'camera', 'gateway'],
      intervalMs: 20,
      statusEvery: 2,
      anomalyRate: 0,
      invalidRate: 0,
      seed: 11,
      maxTicks: 4,
      topicPrefix: 'fleet',
    } as const;
    const run = await startFlow(
      fixture.broker.url,
      [
        { id: 'sim', type: 'simulator', config },
        { id: 'sink', type: 'sqlite-sink', config: { table: 'fleet' } },
      ],
      [['sim', 'out', 'sink']],
    );
    t.after(() => run.stop());

    // 4 ticks × 3 devices of telemetry, plus status from each device at ticks 0 and 2.
    const expected = 4 * 3 + 2 * 3;
    await waitForRows(run, 'SELECT id FROM fleet', expected);
    await settle(200); // ten more intervals: no tick after the last
    const rows = run.rows<{ topic: string; payload: string }>('SELECT topic, payload FROM fleet ORDER BY id');
    assert.equal(rows.length, expected);
    const kinds = new Map<string, number>();
    for (const r of rows)
      kinds.set(r.topic.split('/')[2] as string, (kinds.get(r.topic.split('/')[2] as string) ?? 0) + 1);
    assert.deepEqual(
      [...kinds],
      [
        ['telemetry', 12],
        ['status', 6],
      ],
    );
    const model = new FleetModel({ ...config, profiles: [...config.profiles] });
    const withoutTs = (payload: Record<string, unknown>) => ({ ...payload, ts: 0 });
    const predicted = [0, 1, 2, 3].flatMap((tick) =>
      model.tick(tick, 0).map((m) => ({ topic: m.topic, payload: withoutTs(m.payload) })),
    );
    assert.deepEqual(
      rows.map((r) => ({ topic: r.topic, payload: withoutTs(JSON.parse(r.payload) as Record<string, unknown>) })),
      predicted,
    );
    assert.equal(run.node('sim').counters.out, expected);
  });

  it('emits deliberately malformed telemetry that a validator turns into dead letters', async (t) => {
    const run = await startFlow(
      fixture.broker.url,
      [
        {
          id: 'sim',
          type: 'simulator',
          config: {
            devices: 2,
            profiles: ['sensor'],
            intervalMs: 20,
            invalidRate: 1,
            anomalyRate: 0,
            seed: 5,
            maxTicks: 2,
          },
        },
        { id: 'check', type: 'validate', config: { schema: { properties: { temperature: { type: 'number' } } } } },
        { id: 'sink', type: 'sqlite-sink', config: { table: 'valid' } },
      ],
      [
        ['sim', 'out', 'check'],
        ['check', 'valid', 'sink'],
      ],
    );
    t.after(() => run.stop());
    // Only status messages (tick 0) carry no temperature, so only they are valid.
    assert.deepEqual(await waitForRows(run, 'SELECT topic FROM valid ORDER BY id', 2), [
      { topic: 'fleet/dev-1/status' },
      { topic: 'fleet/dev-2/status' },
    ]);
    const dead = await waitFor('4 dead letters', () => (run.deadLetters().length >= 4 ? run.deadLetters() : undefined));
    assert.deepEqual(
      dead.map((d) => [d.node, d.reason, d.topic, d.qos]),
      [1, 2, 1, 2].map((n) => ['check', 'invalid: /temperature must be number', `fleet/dev-${n}/telemetry`, 0]),
    );
    for (const d of dead) {
      // A generated message has no original bytes: its dead letter keeps the payload as JSON.
      const payload = JSON.parse(d.payload?.toString() ?? '') as Record<string, unknown>;
      assert.equal(payload['temperature'], 'n/a');
      assert.equal(typeof payload['humidity'], 'number');
      assert.ok(Number.isInteger(d.seq));
    }
  });

  it('publishes to the broker: telemetry, events and retained status', async (t) => {
    const watcher = await testClient(fixture.broker.url);
    t.after(() => watcher.endAsync());
    const live = await collect(watcher, 'sim-pub/#');
    const run = await startFlow(
      fixture.broker.url,
      [
        {
          id: 'sim',
          type: 'simulator',
          config: {
            mode: 'publish',
            connection: 'broker',
            devices: 2,
            intervalMs: 20,
            statusEvery: 5,
            anomalyRate: 1,
            seed: 3,
            maxTicks: 2,
            topicPrefix: 'sim-pub',
          },
        },
      ],
      [],
    );
    t.after(() => run.stop());
    t.after(async () => {
      for (const device of ['dev-1', 'dev-2']) {
        await fixture.client.publishAsync(`sim-pub/${device}/status`, '', { qos: 1, retain: true });
      }
    });

    // Per tick: telemetry and a spike event from each device; status from each at tick 0.
    await waitFor('10 messages', () => live.length >= 10);
    await settle(200);
    assert.equal(live.length, 10);
    const summary = (m: (typeof live)[number]) => `${m.topic} qos=${m.qos} retain=${m.retain}`;
    assert.deepEqual(live.map(summary).sort(), [
      'sim-pub/dev-1/events qos=1 retain=false',
      'sim-pub/dev-1/events qos=1 retain=false',
      'sim-pub/dev-1/status qos=1 retain=true',
      'sim-pub/dev-1/telemetry qos=0 retain=false',
      'sim-pub/dev-1/telemetry qos=0 retain=false',
      'sim-pub/dev-2/events qos=1 retain=false',
      'sim-pub/dev-2/events qos=1 retain=false',
      'sim-pub/dev-2/status qos=1 retain=true',
      'sim-pub/dev-2/telemetry qos=0 retain=false',
      'sim-pub/dev-2/telemetry qos=0 retain=false',
    ]);
    const telemetry = live
      .filter((m) => m.topic === 'sim-pub/dev-2/telemetry')
      .map((m) => JSON.parse(m.payload.toString()));
    assert.deepEqual(
      telemetry.map((p: Record<string, unknown>) => [p['deviceId'], p['profile'], p['seq']]),
      [
        ['dev-2', 'camera', 0],
        ['dev-2', 'camera', 1],
      ],
    );
    await waitFor('out counted', () => run.node('sim').counters.out === 10);

    // The status is retained: a subscriber arriving later still gets it.
    const late = await testClient(fixture.broker.url);
    t.after(() => late.endAsync());
    const retained = await collect(late, 'sim-pub/+/status');
    await waitFor('2 retained status messages', () => retained.length >= 2);
    assert.deepEqual(retained.map(summary).sort(), [
      'sim-pub/dev-1/status qos=1 retain=true',
      'sim-pub/dev-2/status qos=1 retain=true',
    ]);
    const status = JSON.parse(retained.find((m) => m.topic === 'sim-pub/dev-1/status')?.payload.toString() ?? '{}');
    assert.deepEqual(
      [status.deviceId, status.profile, status.online, status.firmware, status.uptimeS, typeof status.ts],
      ['dev-1', 'sensor', true, '1.4.2', 0, 'number'],
    );
  });

  it('starts ticking only once its connection is up, so nothing queues offline and ticks keep their order', async (t) => {
    const port = await freePort();
    const harness = await startEngine(
      flowOf(
        `mqtt://127.0.0.1:${port}`,
        [
          {
            id: 'sim',
            type: 'simulator',
            config: { mode: 'publish', connection: 'broker', devices: 2, intervalMs: 10, seed: 5 },
          },
        ],
        [],
      ),
    );
    t.after(() => harness.stop());
    await settle(300);
    const sim = harness.engine.status().nodes.find((n) => n.id === 'sim');
    assert.equal(sim?.state, 'running');
    assert.equal(sim?.pending, 0, 'no publish waits in the offline queue');
    assert.equal(sim?.counters.out, 0);
  });
});
