import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FleetModel, type DeviceProfile } from '../../main/engine/simulator/fleetModel.js';
import { startCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/paths.js';
import { waitFor } from '../helpers/waitFor.js';
import { exampleFlow, openStore, type DeadLetterRow } from './flowFiles.js';

interface TelemetryRow {
  topic: string;
  device: string;
  seq: number;
  temperature: number | null;
  cpu: number | null;
  payload: string;
}

describe('flows/demo.json: zero-setup demo on the embedded broker', () => {
  const tmp = tempDir();
  after(() => tmp.cleanup());

  it('fills its tables within seconds, dead-letters malformed readings with the reason, and exits 0 on SIGTERM', async () => {
    const dataDir = join(tmp.path, 'data');
    const cli = startCli(['run', 'flows/demo.json', '--data-dir', dataDir]);
    try {
      await cli.waitForLog('flow deployed');
      const db = await waitFor('the store', () => openStore(dataDir), 10_000);
      try {
        await waitFor(
          'telemetry rows and a dead letter',
          () =>
            (db.prepare('SELECT count(*) AS n FROM telemetry').get() as { n: number }).n >= 60 &&
            (db.prepare('SELECT count(*) AS n FROM tf_dead_letters').get() as { n: number }).n >= 1,
          20_000,
        );
      } finally {
        db.close();
      }
      const result = await cli.stop('SIGTERM');
      assert.equal(result.code, 0, result.stderr);
    } finally {
      await cli.stop('SIGKILL');
    }

    // The simulator is seeded, so every stored value can be predicted exactly.
    const flow = exampleFlow('demo.json');
    const sim = flow.nodes.find((n) => n.type === 'simulator')?.config as {
      devices: number;
      profiles: DeviceProfile[];
      statusEvery: number;
      anomalyRate: number;
      invalidRate: number;
      seed: number;
      topicPrefix: string;
      intervalMs: number;
    };
    const db = openStore(dataDir);
    try {
      const rows = db
        .prepare('SELECT topic, device, seq, temperature, cpu, payload FROM telemetry ORDER BY id')
        .all() as TelemetryRow[];
      const dead = db
        .prepare("SELECT node, reason, topic, payload FROM tf_dead_letters WHERE node = 'check'")
        .all() as DeadLetterRow[];
      const lastTick = Math.max(...rows.map((r) => r.seq));
      assert.ok(lastTick >= 9, `at least 10 ticks ran (${lastTick + 1})`);
      const model = new FleetModel(sim);
      const stored = new Map(rows.map((r) => [`${r.device}/${r.seq}`, r]));
      const rejected = new Map(
        dead.map((d) => {
          const payload = JSON.parse(d.payload.toString('utf8')) as { deviceId: string; seq: number };
          return [`${payload.deviceId}/${payload.seq}`, d];
        }),
      );
      assert.equal(stored.size, rows.length, 'no telemetry row is stored twice');
      // JSONata leaves out a key whose value is undefined: gateways have no temperature, so no `hot`.
      let checked = 0;
      let invalid = 0;
      for (let tick = 0; tick < lastTick; tick++) {
        for (const m of model.tick(tick, 0).filter((m) => m.topic.endsWith('/telemetry'))) {
          const p = m.payload as Record<string, unknown>;
          const key = `${String(p['deviceId'])}/${tick}`;
          const primary = p['profile'] === 'gateway' ? 'cpu' : 'temperature';
          if (p[primary] === 'n/a') {
            invalid++;
            const d = rejected.get(key);
            assert.ok(d, `malformed reading ${key} is a dead letter`);
            assert.equal(d.topic, m.topic);
            assert.equal(d.reason, `invalid: /${primary} must be number`);
            assert.equal(stored.has(key), false);
            continue;
          }
          const row = stored.get(key);
          assert.ok(row, `reading ${key} is stored`);
          assert.equal(row.topic, m.topic);
          assert.equal(row.temperature, (p['temperature'] as number | undefined) ?? null);
          assert.equal(row.cpu, (p['cpu'] as number | undefined) ?? null);
          const temperature = p['temperature'] as number | undefined;
          assert.deepEqual(JSON.parse(row.payload), {
            device: p['deviceId'],
            profile: p['profile'],
            seq: tick,
            ...(temperature !== undefined ? { temperature, hot: temperature > 40 } : {}),
            ...(p['cpu'] !== undefined ? { cpu: p['cpu'] } : {}),
          });
          checked++;
        }
      }
      assert.ok(checked >= 50, `checked ${checked} rows exactly`);
      assert.ok(invalid >= 1 && rejected.size >= invalid, `${invalid} malformed readings were dead-lettered`);

      const devices = db.prepare('SELECT device, status, last_seen FROM devices ORDER BY device').all() as {
        device: string;
        status: string;
        last_seen: number;
      }[];
      assert.deepEqual(
        devices.map((d) => d.device),
        ['dev-1', 'dev-2', 'dev-3', 'dev-4', 'dev-5', 'dev-6'],
      );
      for (const d of devices) assert.equal((JSON.parse(d.status) as { online: boolean }).online, true);
    } finally {
      db.close();
    }
  });
});
