import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { MqttClient } from 'mqtt';
import { startCli } from '../helpers/cli.js';
import { testClient } from '../helpers/engineHarness.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { tempDir } from '../helpers/paths.js';
import { waitFor } from '../helpers/waitFor.js';
import { openStore } from './flowFiles.js';

describe('flows/gateway.json: validate, one row per attribute, POST to an endpoint', () => {
  const tmp = tempDir();
  const received: { body: unknown; headers: IncomingHttpHeaders; url: string | undefined }[] = [];
  let broker: Mosquitto;
  let client: MqttClient;
  let server: Server;
  before(async () => {
    broker = await startMosquitto();
    client = await testClient(broker.url);
    server = createServer((req, res) => {
      let text = '';
      req.on('data', (d: Buffer) => (text += d.toString()));
      req.on('end', () => {
        received.push({ body: JSON.parse(text), headers: req.headers, url: req.url });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  after(async () => {
    await client?.endAsync();
    await broker?.stop();
    await new Promise((resolve) => server?.close(resolve));
    tmp.cleanup();
  });

  it('stores and posts valid payloads and records invalid ones with every reason', async () => {
    const dataDir = join(tmp.path, 'data');
    const ingest = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ingest`;
    const cli = startCli(['run', 'flows/gateway.json', '--data-dir', dataDir], {
      MQTT_URL: broker.url,
      GATEWAY_INGEST_URL: ingest,
    });
    try {
      await cli.waitForLog('subscribed', { filter: 'gateway/+/data' });
      const valid = { temperature: 21.5, humidity: 40, status: 'ok', battery: 87 };
      await client.publishAsync('gateway/boiler-1/data', JSON.stringify({ temperature: 'hot', status: 'melting' }), {
        qos: 1,
      });
      await client.publishAsync('gateway/boiler-1/data', JSON.stringify(valid), { qos: 1 });
      await client.publishAsync('gateway/boiler-2/data', '{"temperature": 21.5,', { qos: 1 });
      const db = await waitFor('the store', () => openStore(dataDir));
      try {
        await waitFor('four attribute rows, two dead letters and one POST', () => {
          const rows = (db.prepare('SELECT count(*) AS n FROM attributes').get() as { n: number }).n;
          const dead = (db.prepare('SELECT count(*) AS n FROM tf_dead_letters').get() as { n: number }).n;
          return rows === 4 && dead === 2 && received.length === 1;
        });
        const rows = db.prepare('SELECT msg_id, topic, attribute, value, ts FROM attributes ORDER BY id').all() as {
          msg_id: string;
          topic: string;
          attribute: string;
          value: unknown;
          ts: number;
        }[];
        assert.deepEqual(
          rows.map(({ topic, attribute, value }) => ({ topic, attribute, value })),
          [
            { topic: 'gateway/boiler-1/data', attribute: 'temperature', value: 21.5 },
            { topic: 'gateway/boiler-1/data', attribute: 'humidity', value: 40 },
            { topic: 'gateway/boiler-1/data', attribute: 'status', value: 'ok' },
            { topic: 'gateway/boiler-1/data', attribute: 'battery', value: 87 },
          ],
        );
        assert.equal(new Set(rows.map((r) => r.msg_id)).size, 1, 'one message id for the four rows');
        assert.ok(rows.every((r) => Math.abs(r.ts - Date.now()) < 60_000));
        assert.deepEqual(received[0]?.body, valid);
        assert.equal(received[0]?.url, '/ingest');
        assert.equal(received[0]?.headers['x-topicflow-flow'], 'gateway');
        assert.equal(received[0]?.headers['content-type'], 'application/json');
        const dead = db.prepare('SELECT node, reason, payload FROM tf_dead_letters ORDER BY id').all() as {
          node: string;
          reason: string;
          payload: Buffer;
        }[];
        assert.equal(dead[0]?.node, 'schema');
        assert.match(dead[0]?.reason ?? '', /^invalid: /);
        assert.match(dead[0]?.reason ?? '', /\/temperature must be number/);
        assert.match(dead[0]?.reason ?? '', /\/status must be equal to one of the allowed values/);
        assert.match(dead[0]?.reason ?? '', /\/humidity is required/);
        assert.deepEqual(JSON.parse(dead[0]?.payload.toString() ?? ''), { temperature: 'hot', status: 'melting' });
        assert.equal(dead[1]?.node, 'data-in');
        assert.match(dead[1]?.reason ?? '', /^malformed JSON/);
        assert.equal(dead[1]?.payload.toString(), '{"temperature": 21.5,');
      } finally {
        db.close();
      }
      assert.equal((await cli.stop('SIGTERM')).code, 0);
    } finally {
      await cli.stop('SIGKILL');
    }
  });
});
