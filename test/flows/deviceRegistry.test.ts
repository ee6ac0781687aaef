import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startCli } from '../helpers/cli.js';
import { waitFor } from '../helpers/waitFor.js';
import { brokerFixture, openStore } from './flowFiles.js';

interface DeviceRow {
  device: string;
  area: string;
  state: string;
  last_seen: number;
}

describe('flows/device-registry.json: last-known state per device', () => {
  const fixture = brokerFixture();

  it('keeps one row per device with every capability merged and the last-seen time', async () => {
    const dataDir = join(fixture.dir, 'data');
    const cli = startCli(['run', 'flows/device-registry.json', '--data-dir', dataDir], {
      MQTT_URL: fixture.broker.url,
    });
    try {
      await cli.waitForLog('subscribed', { filter: '+/+/+' });
      await fixture.client.publishAsync('plant1/pump-7/temperature', '22.5', { qos: 1 });
      await fixture.client.publishAsync('plant1/pump-7/switch', 'on', { qos: 1 });
      await fixture.client.publishAsync('plant1/pump-7/humidity', '130', { qos: 1 });
      await fixture.client.publishAsync('plant2/fan-1/battery', '80', { qos: 1 });
      await fixture.client.publishAsync('plant1/pump-7/torque', '5', { qos: 1 });
      await fixture.client.publishAsync('plant1/pump-7/switch/set', 'off', { qos: 1 });
      const db = await waitFor('the store', () => openStore(dataDir));
      try {
        const read = () =>
          db.prepare('SELECT device, area, state, last_seen FROM devices ORDER BY device').all() as DeviceRow[];
        await waitFor('two devices and two dead letters', () => {
          const dead = (db.prepare('SELECT count(*) AS n FROM tf_dead_letters').get() as { n: number }).n;
          return read().length === 2 && dead === 2 && JSON.parse(read()[1]?.state ?? '{}')['switch'] === 'on';
        });
        const first = read();
        assert.deepEqual(
          first.map((d) => ({ device: d.device, area: d.area, state: JSON.parse(d.state) as unknown })),
          [
            { device: 'fan-1', area: 'plant2', state: { battery: 80 } },
            { device: 'pump-7', area: 'plant1', state: { temperature: 22.5, switch: 'on' } },
          ],
        );
        const reasons = (
          db.prepare('SELECT reason FROM tf_dead_letters ORDER BY id').all() as { reason: string }[]
        ).map((r) => r.reason);
        assert.match(reasons[0] ?? '', /\/value must be <= 100/);
        assert.match(reasons[1] ?? '', /\/capability must be equal to one of the allowed values/);

        // A device goes quiet: its row stays. Another reading updates it and its last-seen time.
        await new Promise((resolve) => setTimeout(resolve, 20));
        await fixture.client.publishAsync('plant1/pump-7/temperature', '23', { qos: 1 });
        await waitFor('the new temperature', () => JSON.parse(read()[1]?.state ?? '{}')['temperature'] === 23);
        const second = read();
        assert.deepEqual(JSON.parse(second[1]?.state ?? ''), { temperature: 23, switch: 'on' });
        assert.ok((second[1]?.last_seen ?? 0) > (first[1]?.last_seen ?? 0));
        assert.deepEqual(second[0], first[0], 'the quiet device keeps its memory');
      } finally {
        db.close();
      }
      assert.equal((await cli.stop('SIGTERM')).code, 0);
    } finally {
      await cli.stop('SIGKILL');
    }
  });
});
