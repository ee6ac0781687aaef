import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import { type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { MqttClient } from 'mqtt';
import { STORE_FILE } from '../../../main/engine/store/store.js';
import { flowOf, startEngine, testClient, type EngineHarness } from '../../helpers/engineHarness.js';
import { startMosquitto, type Mosquitto } from '../../helpers/mosquitto.js';
import { waitFor } from '../../helpers/waitFor.js';
import { count, nodeStatus, publishAll, sleep, unique, within } from './support/engineHelpers.js';

import { LIMIT, debug, mqttIn, sink } from './support/flowFixtures.js';

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
