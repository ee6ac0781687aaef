import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startCli } from '../helpers/cli.js';
import { waitFor } from '../helpers/waitFor.js';
import { brokerFixture, openStore } from './flowFiles.js';

describe('flows/pico-sensors.json: raw ASCII floats to (ts, topic, value)', () => {
  const fixture = brokerFixture();

  it('stores each reading as a number and dead-letters what is not one', async () => {
    const dataDir = join(fixture.dir, 'data');
    const cli = startCli(['run', 'flows/pico-sensors.json', '--data-dir', dataDir], { MQTT_URL: fixture.broker.url });
    try {
      await cli.waitForLog('subscribed', { filter: 'pico/+/+' });
      await fixture.client.publishAsync('pico/temperature/dht22', '22.4', { qos: 1 });
      await fixture.client.publishAsync('pico/humidity/dht22', '41', { qos: 1 });
      await fixture.client.publishAsync('pico/temperature/dht22', 'nan?', { qos: 1 });
      await fixture.client.publishAsync('pico/temperature/dht22', ' 23.6\n', { qos: 1 });
      await fixture.client.publishAsync('other/temperature/dht22', '99', { qos: 1 });
      const db = await waitFor('the store', () => openStore(dataDir));
      try {
        await waitFor('three readings and a dead letter', () => {
          const n = (db.prepare('SELECT count(*) AS n FROM readings').get() as { n: number }).n;
          const d = (db.prepare('SELECT count(*) AS n FROM tf_dead_letters').get() as { n: number }).n;
          return n === 3 && d === 1;
        });
        assert.deepEqual(db.prepare('SELECT topic, value FROM readings ORDER BY id').all(), [
          { topic: 'pico/temperature/dht22', value: 22.4 },
          { topic: 'pico/humidity/dht22', value: 41 },
          { topic: 'pico/temperature/dht22', value: 23.6 },
        ]);
        const columns = (db.prepare('PRAGMA table_info(readings)').all() as { name: string }[]).map((c) => c.name);
        assert.deepEqual(columns, ['id', 'ts', 'topic', 'value']);
        const dead = db.prepare('SELECT node, reason, topic, payload FROM tf_dead_letters').get() as Record<
          string,
          unknown
        >;
        assert.deepEqual(
          { ...dead, payload: (dead['payload'] as Buffer).toString() },
          {
            node: 'pico-in',
            reason: 'payload is not a number: "nan?"',
            topic: 'pico/temperature/dht22',
            payload: 'nan?',
          },
        );
        // The hourly average of the README's time-bucket query.
        const hourly = db
          .prepare(
            `SELECT topic, (ts / 3600000) * 3600000 AS hour, round(avg(value), 2) AS average, count(*) AS n
             FROM readings GROUP BY topic, hour ORDER BY topic`,
          )
          .all() as { topic: string; average: number; n: number }[];
        assert.deepEqual(
          hourly.map(({ topic, average, n }) => ({ topic, average, n })),
          hourly.length === 2
            ? [
                { topic: 'pico/humidity/dht22', average: 41, n: 1 },
                { topic: 'pico/temperature/dht22', average: 23, n: 2 },
              ]
            : hourly.map(({ topic, average, n }) => ({ topic, average, n })), // an hour boundary fell mid-test
        );
      } finally {
        db.close();
      }
      assert.equal((await cli.stop('SIGTERM')).code, 0);
    } finally {
      await cli.stop('SIGKILL');
    }
  });
});
