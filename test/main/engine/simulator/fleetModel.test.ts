import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FleetModel, mulberry32, type FleetOptions } from '../../../../main/engine/simulator/fleetModel.js';

const options = (overrides: Partial<FleetOptions> = {}): FleetOptions => ({
  devices: 6,
  profiles: ['sensor', 'camera', 'gateway'],
  statusEvery: 10,
  anomalyRate: 0,
  invalidRate: 0,
  seed: 42,
  topicPrefix: 'fleet',
  intervalMs: 1000,
  ...overrides,
});

/** `ticks` ticks of a fresh model, all stamped with the same clock. */
function run(o: FleetOptions, ticks: number, now = 1_700_000_000_000) {
  const model = new FleetModel(o);
  return Array.from({ length: ticks }, (_, tick) => model.tick(tick, now));
}

const telemetry = (messages: ReturnType<FleetModel['tick']>) => messages.filter((m) => m.topic.endsWith('/telemetry'));

describe('mulberry32', () => {
  it('is deterministic per seed and stays in [0, 1)', () => {
    const a = mulberry32(7);
    const b = mulberry32(7);
    const c = mulberry32(8);
    const fromA = Array.from({ length: 1000 }, () => a());
    const fromB = Array.from({ length: 1000 }, () => b());
    const fromC = Array.from({ length: 1000 }, () => c());
    assert.deepEqual(fromA, fromB);
    assert.notDeepEqual(fromA, fromC);
    assert.ok(fromA.every((v) => v >= 0 && v < 1));
    assert.ok(new Set(fromA).size > 990, 'values do not repeat much');
    const mean = fromA.reduce((s, v) => s + v, 0) / fromA.length;
    assert.ok(Math.abs(mean - 0.5) < 0.05, `mean ${mean} is near 0.5`);
  });
});

describe('FleetModel', () => {
  it('yields identical messages for the same seed, and different values for another seed', () => {
    const o = options({ anomalyRate: 0.3, invalidRate: 0.1 });
    const first = run(o, 30);
    assert.deepEqual(run(o, 30), first);
    const other = run({ ...o, seed: 43 }, 30);
    assert.notDeepEqual(
      telemetry(other.flat()).map((m) => m.payload),
      telemetry(first.flat()).map((m) => m.payload),
    );
  });

  it('gives each device its own phase, so devices of one profile differ', () => {
    const model = new FleetModel(options({ devices: 12, profiles: ['sensor'] }));
    const phases = model.devices.map((d) => d.phase);
    assert.equal(new Set(phases).size, 12);
    assert.ok(phases.every((p) => p >= 0 && p < 2 * Math.PI));
    const temperatures = telemetry(model.tick(0, 0)).map((m) => m.payload['temperature']);
    assert.ok(new Set(temperatures).size > 6, `temperatures ${temperatures.join(', ')} differ between devices`);
  });

  it('assigns profiles round-robin, each with its own metrics', () => {
    const model = new FleetModel(options({ devices: 7 }));
    assert.deepEqual(
      model.devices.map((d) => `${d.id}:${d.profile}`),
      [
        'dev-1:sensor',
        'dev-2:camera',
        'dev-3:gateway',
        'dev-4:sensor',
        'dev-5:camera',
        'dev-6:gateway',
        'dev-7:sensor',
      ],
    );
    const metrics = telemetry(model.tick(0, 5)).map((m) => Object.keys(m.payload).sort());
    const sensor = ['deviceId', 'humidity', 'profile', 'seq', 'temperature', 'ts'];
    const camera = ['cpu', 'deviceId', 'fps', 'profile', 'seq', 'temperature', 'ts'];
    const gateway = ['cpu', 'deviceId', 'memoryMb', 'profile', 'seq', 'ts', 'uplinkKbps'];
    assert.deepEqual(metrics, [sensor, camera, gateway, sensor, camera, gateway, sensor]);
  });

  it('publishes telemetry at QoS 0, and retained status at QoS 1 every statusEvery ticks', () => {
    const ticks = run(options({ devices: 2, statusEvery: 3, intervalMs: 500 }), 7, 1234);
    assert.deepEqual(
      ticks.map((messages) => messages.map((m) => m.topic)),
      [0, 1, 2, 3, 4, 5, 6].map((tick) =>
        tick % 3 === 0
          ? ['fleet/dev-1/telemetry', 'fleet/dev-1/status', 'fleet/dev-2/telemetry', 'fleet/dev-2/status']
          : ['fleet/dev-1/telemetry', 'fleet/dev-2/telemetry'],
      ),
    );
    const [first] = ticks[0] ?? [];
    assert.deepEqual(
      { qos: first?.qos, retain: first?.retain, priority: first?.priority },
      {
        qos: 0,
        retain: false,
        priority: 'low',
      },
    );
    assert.deepEqual(first?.payload['deviceId'], 'dev-1');
    assert.deepEqual(first?.payload['seq'], 0);
    assert.deepEqual(first?.payload['ts'], 1234);
    const status = ticks[6]?.find((m) => m.topic === 'fleet/dev-2/status');
    assert.deepEqual(status, {
      topic: 'fleet/dev-2/status',
      payload: { deviceId: 'dev-2', profile: 'camera', ts: 1234, online: true, firmware: '1.4.2', uptimeS: 3 },
      qos: 1,
      retain: true,
      priority: 'normal',
    });
  });

  it('raises an event on the events topic for every spike when anomalyRate is 1', () => {
    const ticks = run(options({ devices: 3, anomalyRate: 1, statusEvery: 1000 }), 3);
    for (const messages of ticks) {
      const events = messages.filter((m) => m.topic.endsWith('/events'));
      assert.deepEqual(
        events.map((e) => e.topic),
        ['fleet/dev-1/events', 'fleet/dev-2/events', 'fleet/dev-3/events'],
      );
      for (const event of events) {
        const device = event.payload['deviceId'] as string;
        const reading = messages.find((m) => m.topic === `fleet/${device}/telemetry`);
        const primary = device === 'dev-3' ? 'cpu' : 'temperature';
        assert.deepEqual(
          { ...event, payload: { ...event.payload, ts: 0 } },
          {
            topic: `fleet/${device}/events`,
            payload: {
              deviceId: device,
              ts: 0,
              seq: reading?.payload['seq'],
              type: 'spike',
              metric: primary,
              value: reading?.payload[primary],
            },
            qos: 1,
            retain: false,
            priority: 'high',
          },
        );
      }
    }
    // A spike really moves the primary metric: a sensor idles near 21 °C, spiked it is 25 higher.
    const spiked = telemetry(ticks.flat()).filter((m) => m.payload['profile'] === 'sensor');
    assert.ok(spiked.every((m) => (m.payload['temperature'] as number) > 35));
    assert.equal(
      run(options({ anomalyRate: 0 }), 20)
        .flat()
        .filter((m) => m.topic.endsWith('/events')).length,
      0,
    );
  });

  it("replaces the primary metric with 'n/a' when invalidRate is 1", () => {
    const messages = telemetry(run(options({ invalidRate: 1 }), 5).flat());
    assert.equal(messages.length, 30);
    for (const m of messages) {
      const primary = m.payload['profile'] === 'gateway' ? 'cpu' : 'temperature';
      assert.equal(m.payload[primary], 'n/a');
    }
    const valid = telemetry(run(options({ invalidRate: 0 }), 5).flat());
    assert.ok(valid.every((m) => typeof m.payload['temperature'] === 'number' || typeof m.payload['cpu'] === 'number'));
  });

  it('keeps bounded metrics in range and rounds values to two decimals', () => {
    const messages = telemetry(run(options({ devices: 9, anomalyRate: 0.5 }), 200).flat());
    for (const m of messages) {
      const p = m.payload;
      for (const name of ['humidity', 'cpu']) {
        if (name in p) assert.ok((p[name] as number) >= 0 && (p[name] as number) <= 100, `${name} ${String(p[name])}`);
      }
      for (const name of ['fps', 'uplinkKbps']) if (name in p) assert.ok((p[name] as number) >= 0);
      for (const [name, value] of Object.entries(p)) {
        if (typeof value === 'number' && name !== 'ts') {
          assert.equal(Math.round(value * 100) / 100, value, `${name} ${value} has two decimals at most`);
        }
      }
    }
  });

  it('uses the topic prefix', () => {
    const [messages] = run(options({ devices: 1, topicPrefix: 'site-a/fleet' }), 1);
    assert.deepEqual(
      messages?.map((m) => m.topic),
      ['site-a/fleet/dev-1/telemetry', 'site-a/fleet/dev-1/status'],
    );
  });
});
