import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { MqttClient } from 'mqtt';
import { healthOf } from '../../../main/server/health.js';
import { testClient } from '../../helpers/engineHarness.js';
import { startMosquitto, type Mosquitto } from '../../helpers/mosquitto.js';
import { waitFor } from '../../helpers/waitFor.js';
import { publishAll, settle, startFlow } from './engineTestKit.js';

/**
 * A full disk, made real: the store's PRAGMA max_page_count is lowered to what the file already
 * uses, so the next write fails with SQLITE_FULL exactly as on a full disk.
 */
describe('store full', () => {
  let broker: Mosquitto;
  let client: MqttClient;
  before(async () => {
    broker = await startMosquitto();
    client = await testClient(broker.url);
  });
  after(async () => {
    await client?.endAsync();
    await broker?.stop();
  });

  it('stops acknowledging, reports unhealthy, never crashes, and loses nothing once space returns', async (t) => {
    const run = await startFlow(
      broker.url,
      [
        { id: 'in', type: 'mqtt-in', config: { connection: 'broker', topic: 'full/+', qos: 1, decoding: 'json' } },
        { id: 'check', type: 'validate', config: { schema: { type: 'object', required: ['n'] } } },
        {
          id: 'rows',
          type: 'sqlite-sink',
          config: { table: 'readings', columns: [{ name: 'n', path: 'payload.n', type: 'integer' }] },
        },
      ],
      [
        ['in', 'out', 'check'],
        ['check', 'valid', 'rows'],
      ],
    );
    t.after(() => run.stop());
    await publishAll(client, 'full/a', ['{"n":0}']);
    await waitFor('first row', () => run.rows('SELECT * FROM readings').length === 1);

    const store = run.engine.store;
    const used =
      (store.db.pragma('page_count', { simple: true }) as number) *
      (store.db.pragma('page_size', { simple: true }) as number);
    store.limitSize(used);
    // 100 valid messages and 5 invalid ones (their dead letters need the store too), 1 KB each:
    // they need new pages, which the bound refuses.
    const pad = 'x'.repeat(1000);
    const payloads = Array.from({ length: 105 }, (_, i) =>
      i % 21 === 20 ? JSON.stringify({ bad: true, pad }) : JSON.stringify({ n: i + 1, pad }),
    );
    await publishAll(client, 'full/a', payloads);

    await waitFor('store failing', () => run.engine.status().store.state === 'failing');
    const status = run.engine.status();
    assert.match(status.store.error ?? '', /full/i);
    const health = healthOf(status);
    assert.equal(health.status, 'unhealthy');
    assert.ok(health.reasons.some((r) => r.code === 'store-failing'));
    // A row or two may still fit in the last page; after that nothing is written, nothing acknowledged:
    // the broker holds what it has not been able to hand over.
    const atFailure = run.rows('SELECT * FROM readings').length;
    assert.ok(atFailure < 10, `${atFailure} rows written before the store was full`);
    await settle(300);
    assert.equal(run.rows('SELECT * FROM readings').length, atFailure);
    const connection = run.engine.status().connections[0];
    assert.ok((connection?.unacknowledged ?? 0) > 0, 'messages are held unacknowledged');
    assert.equal(run.node('rows').state, 'running');
    assert.ok(run.logs.some((l) => l.msg === 'store write failed: holding messages unacknowledged'));

    // Space returns.
    store.limitSize(1024 * 1024 * 1024);
    await waitFor('every row', () => run.rows('SELECT * FROM readings').length === 101, 20_000);
    await waitFor('every dead letter', () => run.deadLetters().length === 5, 10_000);
    const rows = run.rows<{ n: number }>('SELECT n FROM readings ORDER BY n').map((r) => r.n);
    assert.deepEqual(
      rows,
      Array.from({ length: 106 }, (_, n) => n).filter((n) => n === 0 || n % 21 !== 0),
    );
    await waitFor('store ok', () => run.engine.status().store.state === 'ok');
    await waitFor('all acknowledged', () => run.engine.status().connections[0]?.unacknowledged === 0);
    assert.equal(healthOf(run.engine.status()).status, 'healthy');
  });
});
