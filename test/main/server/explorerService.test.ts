import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connectAsync, type MqttClient } from 'mqtt';
import type {
  ExplorerConnectionInfo,
  ExplorerEvents,
  ExplorerMethods,
  TopicStat,
} from '../../../shared/protocol/explorerProtocol.js';
import { EXPLORER_DELTA_INTERVAL_MS } from '../../../shared/protocol/explorerProtocol.js';
import { silentLogger } from '../../../main/engine/logger.js';
import { ExplorerService, type ExplorerFailure } from '../../../main/server/explorerService.js';
import { startCli } from '../../helpers/cli.js';
import { startMosquitto, type Mosquitto } from '../../helpers/mosquitto.js';
import { tempDir } from '../../helpers/paths.js';
import { connectProtocol } from '../../helpers/protocolClient.js';
import { waitFor } from '../../helpers/waitFor.js';

type Event = { [E in keyof ExplorerEvents]: { event: E; data: ExplorerEvents[E]; at: number } }[keyof ExplorerEvents];

/** One explorer service with its events recorded, as EngineService would attach it. */
async function openService(dataDir: string, lookup: Record<string, string> = {}) {
  const service = await ExplorerService.open({
    dataDir,
    lookup: (name) => lookup[name],
    logger: silentLogger(),
    defaultBroker: false,
    recorder: { flushMs: 50, retentionMs: 200 },
  });
  const events: Event[] = [];
  service.attach(
    (event, data) => events.push({ event, data, at: performance.now() } as Event),
    () => true,
  );
  const call = <M extends keyof ExplorerMethods>(method: M, params: unknown): Promise<ExplorerMethods[M]['result']> =>
    Promise.resolve(service.handlers(params as Record<string, unknown>)[method]()) as Promise<
      ExplorerMethods[M]['result']
    >;
  const fail = async (method: keyof ExplorerMethods, params: unknown): Promise<ExplorerFailure> => {
    try {
      await call(method, params);
    } catch (error) {
      return error as ExplorerFailure;
    }
    throw new Error(`${method} succeeded; a failure was expected`);
  };
  const info = async (id: string): Promise<ExplorerConnectionInfo | undefined> =>
    (await call('explorer.connections.list', {})).connections.find((c) => c.config.connection.id === id);
  return { service, events, call, fail, info };
}

const payloadText = (base64: string) => Buffer.from(base64, 'base64').toString('utf8');

describe('explorer service against Mosquitto', () => {
  let broker: Mosquitto;
  let publisher: MqttClient;
  const tmp = tempDir('topicflow-explorer-');
  const dataDir = join(tmp.path, 'data');

  before(async () => {
    broker = await startMosquitto();
    publisher = await connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0 });
  });
  after(async () => {
    await publisher?.endAsync();
    await broker?.stop();
    tmp.cleanup();
  });

  it('aggregates, streams bounded deltas, pages history, publishes, clears retained, records across a restart', async () => {
    const s = await openService(dataDir, { MQTT_PASSWORD: 'not-needed' });
    try {
      // ---- parameter checks name the field
      const badUrl = await s.fail('explorer.connections.save', {
        config: { connection: { id: 'x', url: 'http://nope' }, filters: ['#'], enabled: true },
      });
      assert.equal(badUrl.code, 'invalid-params');
      assert.match(badUrl.message, /\/config\/connection\/url/);
      const literal = await s.fail('explorer.connections.save', {
        config: { connection: { id: 'x', url: broker.url, password: 'hunter2' }, filters: ['#'], enabled: true },
      });
      assert.match(literal.message, /\/config\/connection\/password.*literal secret/);
      assert.doesNotMatch(literal.message, /hunter2/);
      const badFilter = await s.fail('explorer.connections.save', {
        config: { connection: { id: 'x', url: broker.url }, filters: ['a/#/b'], enabled: true },
      });
      assert.match(badFilter.message, /\/config\/filters\/0/);
      const noUser = await s.fail('explorer.connections.save', {
        config: {
          connection: { id: 'x', url: broker.url, password: '${env:MQTT_PASSWORD}' },
          filters: ['#'],
          enabled: true,
        },
      });
      assert.match(noUser.message, /\/config\/connection\/username/);
      assert.equal((await s.fail('explorer.tree.snapshot', { connection: 'ghost' })).code, 'not-found');
      assert.equal(
        (await s.fail('explorer.tree.snapshot', { connection: 'ghost', columns: 'yes' } as never)).code,
        'invalid-params',
      );

      // ---- connect (MQTT 5, password by reference)
      const saved = await s.call('explorer.connections.save', {
        config: {
          connection: {
            id: 'm',
            url: broker.url,
            protocolVersion: 5,
            username: 'explorer',
            password: '${env:MQTT_PASSWORD}',
          },
          filters: ['t/#', 'r/#', 'p/#'],
          enabled: true,
        },
      });
      assert.equal(saved.config.connection.password, '${env:MQTT_PASSWORD}', 'the saved config keeps the reference');
      await waitFor('connected', async () => (await s.info('m'))?.state === 'connected', 10_000);
      await waitFor('state event', () =>
        s.events.some((e) => e.event === 'explorer.connections' && e.data.connections[0]?.state === 'connected'),
      );
      // Subscriptions are acknowledged before the first message is counted on: wait for one probe.
      await publisher.publishAsync('t/probe', 'p', { qos: 1 });
      await waitFor(
        'probe',
        async () => (await s.call('explorer.tree.snapshot', { connection: 'm' })).topics.length > 0,
      );
      // The columnar snapshot the page asks for holds the same topic.
      const columnar = await s.call('explorer.tree.snapshot', { connection: 'm', columns: true });
      assert.deepEqual(columnar.topics, []);
      assert.deepEqual(columnar.columns?.topic, ['t/probe']);
      assert.deepEqual(columnar.columns?.count, [1]);

      // ---- N messages over M topics: snapshot + later deltas add up exactly
      const N = 4000;
      const M = 50;
      const half = N / 2;
      const publishRange = async (from: number, to: number) => {
        for (let i = from; i < to; i++) {
          void publisher.publish(`t/${i % M}`, JSON.stringify({ v: i, kind: i % 2 ? 'odd' : 'even' }), { qos: 1 });
          if (i % 200 === 199) await new Promise((resolve) => setTimeout(resolve, 20));
        }
      };
      const startedAt = performance.now();
      await publishRange(0, half);
      const snapshot = await s.call('explorer.tree.snapshot', { connection: 'm' });
      const snapshotAt = performance.now();
      const page = new Map<string, TopicStat>(snapshot.topics.map((t) => [t.topic, t]));
      await publishRange(half, N);
      const expectedTotal = N + 1;
      await waitFor('every message in the tree', async () => (await s.info('m'))?.messages === expectedTotal, 15_000);
      await new Promise((resolve) => setTimeout(resolve, EXPLORER_DELTA_INTERVAL_MS * 3));
      const deltas = s.events.filter((e) => e.event === 'explorer.delta') as Extract<
        Event,
        { event: 'explorer.delta' }
      >[];
      for (const d of deltas) if (d.at > snapshotAt) for (const t of d.data.topics) page.set(t.topic, t);
      let total = 0;
      for (const [topic, stat] of page) {
        total += stat.count;
        if (topic !== 't/probe') assert.equal(stat.count, N / M, topic);
      }
      assert.equal(total, expectedTotal);
      const finalSnapshot = await s.call('explorer.tree.snapshot', { connection: 'm' });
      assert.deepEqual(
        finalSnapshot.topics.map((t) => [t.topic, t.count]).sort(),
        [...page.values()].map((t) => [t.topic, t.count]).sort(),
      );

      // ---- deltas: at most 10 a second, never one per message
      const window = deltas.filter((d) => d.at >= startedAt);
      const seconds = (performance.now() - startedAt) / 1000;
      assert.ok(window.length / seconds <= 10.5, `${window.length} deltas in ${seconds.toFixed(1)} s`);
      for (let i = 1; i < window.length; i++) {
        const gap = (window[i]?.at as number) - (window[i - 1]?.at as number);
        assert.ok(gap >= EXPLORER_DELTA_INTERVAL_MS * 0.7, `deltas ${gap.toFixed(0)} ms apart`);
      }
      assert.ok(window.length < N / 10, `${window.length} deltas for ${N} messages`);

      // ---- history with sinceSeq
      const history = await s.call('explorer.topic.history', { connection: 'm', topic: 't/3' });
      assert.equal(history.messages.length, 80);
      assert.equal(history.evicted, 0);
      assert.deepEqual(JSON.parse(payloadText(history.messages[79]?.payloadBase64 as string)), {
        v: N - M + 3,
        kind: 'odd',
      });
      const since = history.messages[75]?.seq as number;
      const newer = await s.call('explorer.topic.history', { connection: 'm', topic: 't/3', sinceSeq: since });
      assert.deepEqual(
        newer.messages.map((m) => m.seq),
        history.messages.slice(76).map((m) => m.seq),
      );

      // ---- series and schema inference from history
      const series = await s.call('explorer.series', { connection: 'm', topic: 't/3', field: 'v' });
      assert.equal(series.points.length, 80);
      assert.equal(series.points[0]?.[1], 3);
      const inferred = await s.call('explorer.inferSchema', { connection: 'm', filter: 't/+' });
      assert.equal(inferred.decode, 'json');
      assert.deepEqual(inferred.schema, {
        type: 'object',
        properties: {
          // 1,000 samples spread over 50 topics: the newest 20 of each.
          v: { type: 'integer', minimum: N - 1000, maximum: N - 1 },
          kind: { type: 'string', enum: ['even', 'odd'] },
        },
        required: ['v', 'kind'],
      });

      // ---- MQTT 5 user properties arrive
      await publisher.publishAsync('p/props', 'hello', {
        qos: 1,
        properties: {
          userProperties: { site: 'north', tag: ['a', 'b'] },
          contentType: 'text/plain',
          correlationData: Buffer.from('corr'),
        },
      });
      const props = await waitFor('the message with properties', async () => {
        const h = await s.call('explorer.topic.history', { connection: 'm', topic: 'p/props' });
        return h.messages[0]?.properties;
      });
      assert.deepEqual(props.userProperties, { site: 'north', tag: ['a', 'b'] });
      assert.equal(props.contentType, 'text/plain');
      assert.equal(props.correlationDataBase64, Buffer.from('corr').toString('base64'));

      // ---- publish from the service arrives at another client
      const listener = await connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0 });
      try {
        const got: { topic: string; payload: string; user: unknown }[] = [];
        listener.on('message', (topic, payload, packet) =>
          got.push({ topic, payload: payload.toString(), user: { ...packet.properties?.userProperties } }),
        );
        await listener.subscribeAsync('out/#', { qos: 1 });
        await s.call('explorer.publish', {
          connection: 'm',
          topic: 'out/a',
          payload: Buffer.from('bytes\u0000').toString('base64'),
          encoding: 'base64',
          qos: 1,
          retain: false,
          properties: { userProperties: { from: 'explorer' } },
        });
        const arrived = await waitFor('the published message', () => got[0]);
        assert.deepEqual(arrived, { topic: 'out/a', payload: 'bytes\u0000', user: { from: 'explorer' } });
        const badQos = await s.fail('explorer.publish', {
          connection: 'm',
          topic: 'out/a',
          payload: 'x',
          qos: 3,
          retain: false,
        });
        assert.match(badQos.message, /"qos"/);
        const wildcard = await s.fail('explorer.publish', {
          connection: 'm',
          topic: 'out/#',
          payload: 'x',
          qos: 0,
          retain: false,
        });
        assert.match(wildcard.message, /"topic"/);
        const tooBig = await s.fail('explorer.publish', {
          connection: 'm',
          topic: 'out/a',
          payload: 'x'.repeat(1024 * 1024 + 1),
          qos: 0,
          retain: false,
        });
        assert.match(tooBig.message, /"payload".*limit/);
      } finally {
        await listener.endAsync();
      }

      // ---- retained subtree clear leaves nothing retained on the broker
      for (const topic of ['r/a', 'r/b/c', 'r/b/d/e'])
        await publisher.publishAsync(topic, `v-${topic}`, { qos: 1, retain: true });
      await publisher.publishAsync('r/live', 'not retained', { qos: 1 });
      await publisher.publishAsync('keep/x', 'control', { qos: 1, retain: true });
      await waitFor('retained topics in the tree', async () => {
        const snap = await s.call('explorer.tree.snapshot', { connection: 'm' });
        return snap.topics.filter((t) => t.topic.startsWith('r/') && t.retained).length === 3;
      });
      const cleared = await s.call('explorer.retained.clear', { connection: 'm', topic: 'r', subtree: true });
      assert.deepEqual(cleared.cleared, ['r/a', 'r/b/c', 'r/b/d/e']);
      const fresh = await connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0 });
      try {
        const retained: string[] = [];
        fresh.on('message', (topic, _payload, packet) => {
          if (packet.retain) retained.push(topic);
        });
        await fresh.subscribeAsync(['r/#', 'keep/#'], { qos: 1 });
        await waitFor('the control retained message', () => retained.includes('keep/x'));
        await new Promise((resolve) => setTimeout(resolve, 300));
        assert.deepEqual(retained, ['keep/x'], 'only the control topic still holds a retained message');
      } finally {
        await fresh.endAsync();
        await publisher.publishAsync('keep/x', '', { qos: 1, retain: true });
      }

      // ---- recording
      const badRecording = await s.fail('explorer.recording.start', { connection: 'm', filters: [] });
      assert.match(badRecording.message, /"filters"/);
      const recording = await s.call('explorer.recording.start', {
        connection: 'm',
        filters: ['t/1', 't/2'],
        maxRows: 1000,
      });
      assert.equal(recording.active, true);
      for (let i = 0; i < 100; i++)
        void publisher.publish(`t/${1 + (i % 2)}`, JSON.stringify({ v: 10_000 + i }), { qos: 1 });
      await publisher.publishAsync('t/9', 'not recorded', { qos: 1 });
      await waitFor('100 rows recorded', async () => {
        const list = await s.call('explorer.recording.list', {});
        return list.recordings[0]?.rows === 100;
      });
    } finally {
      await s.service.dispose();
    }

    // ---- a restart: the saved connection and the active recording come back
    const again = await openService(dataDir, { MQTT_PASSWORD: 'not-needed' });
    try {
      const connections = (await again.call('explorer.connections.list', {})).connections;
      assert.deepEqual(
        connections.map((c) => c.config.connection.id),
        ['m'],
      );
      await waitFor('reconnected', async () => (await again.info('m'))?.state === 'connected', 10_000);
      const listed = (await again.call('explorer.recording.list', {})).recordings;
      assert.equal(listed[0]?.active, true);
      assert.equal(listed[0]?.rows, 100);
      await publisher.publishAsync('t/9', 'probe', { qos: 1 });
      await waitFor('subscribed again', async () => (await again.info('m'))?.messages === 1);
      for (let i = 0; i < 50; i++) void publisher.publish('t/1', JSON.stringify({ v: 20_000 + i }), { qos: 1 });
      await waitFor(
        '150 rows recorded',
        async () => (await again.call('explorer.recording.list', {})).recordings[0]?.rows === 150,
      );
      // Series: the recording backfills what the fresh history does not hold.
      const series = await again.call('explorer.series', { connection: 'm', topic: 't/1', field: 'v', limit: 10_000 });
      assert.equal(series.points.length, 100, 'the 50 recorded before the restart and the 50 since');
      assert.equal(series.points[0]?.[1], 10_000);
      assert.equal(series.points[99]?.[1], 20_049);
      const exported = await again.call('explorer.recording.export', {
        connection: 'm',
        format: 'jsonl',
        filter: 't/2',
      });
      assert.equal(exported.rows, 50);
      assert.equal(exported.truncated, false);
      const first = JSON.parse(exported.text.split('\n')[0] as string) as { topic: string; payload: string };
      assert.equal(first.topic, 't/2');
      assert.deepEqual(JSON.parse(first.payload), { v: 10_001 });
      const csv = await again.call('explorer.recording.export', { connection: 'm', format: 'csv', limit: 10 });
      assert.equal(csv.rows, 10);
      assert.equal(csv.truncated, true);
      assert.match(
        csv.text,
        /^at,time,topic,qos,retain,payload,payload_base64\r\n\d+,[^,]+,t\/1,1,false,"\{""v"":10000\}",\r\n/,
      );
      const stopped = await again.call('explorer.recording.stop', { connection: 'm' });
      assert.equal(stopped.active, false);

      // ---- filters edited without a reconnect; removal
      const before = (await again.info('m'))?.messages as number;
      await again.call('explorer.connections.save', {
        config: {
          connection: {
            id: 'm',
            url: broker.url,
            protocolVersion: 5,
            username: 'explorer',
            password: '${env:MQTT_PASSWORD}',
          },
          filters: ['only/#'],
          enabled: true,
        },
      });
      assert.equal((await again.info('m'))?.state, 'connected');
      await publisher.publishAsync('t/1', 'ignored now', { qos: 1 });
      await publisher.publishAsync('only/x', 'seen', { qos: 1 });
      await waitFor('the new filter', async () => (await again.info('m'))?.messages === before + 1);
      assert.equal((await again.call('explorer.connections.remove', { connection: 'm' })).removed, true);
      assert.deepEqual((await again.call('explorer.connections.list', {})).connections, []);
    } finally {
      await again.service.dispose();
    }
  });

  it('an embedded broker whose port is taken fails with the port named; an unset reference fails naming it', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as AddressInfo).port;
    const s = await openService(join(tmp.path, 'data-failed'));
    try {
      await s.call('explorer.connections.save', {
        config: { connection: { id: 'local', embedded: { port } }, filters: ['#'], enabled: true },
      });
      const failed = await waitFor('failed', async () => {
        const info = await s.info('local');
        return info?.state === 'failed' ? info : undefined;
      });
      assert.match(failed.lastError ?? '', new RegExp(`port ${port}`));
      await s.call('explorer.connections.save', {
        config: { connection: { id: 'ref', url: '${env:NO_SUCH_URL}' }, filters: ['#'], enabled: true },
      });
      const unset = await waitFor('failed', async () => {
        const info = await s.info('ref');
        return info?.state === 'failed' ? info : undefined;
      });
      assert.match(unset.lastError ?? '', /NO_SUCH_URL.*not set/);
    } finally {
      await s.service.dispose();
      blocker.close();
    }
  });

  it('topicflow serve wires the explorer: the default embedded broker (flag-chosen port) and deltas over the WebSocket', async () => {
    const cli = startCli([
      'serve',
      '--workspace',
      tmp.path,
      '--data-dir',
      join(tmp.path, 'serve-data'),
      '--port',
      '0',
      '--embedded-port',
      '0',
    ]);
    try {
      const url = String((await cli.waitForLog('serve listening'))['url']);
      const client = await connectProtocol(`${url.replace('http', 'ws')}api`);
      try {
        const local = await waitFor('the default connection', async () => {
          const list = await client.call('explorer.connections.list');
          const c = list.connections[0];
          return c?.state === 'connected' ? c : undefined;
        });
        assert.equal(local.config.connection.id, 'local');
        assert.match(local.url, /^mqtt:\/\/127\.0\.0\.1:\d+$/);
        assert.notEqual(local.url, 'mqtt://127.0.0.1:1883');
        const embedded = await connectAsync(local.url, { protocolVersion: 4, reconnectPeriod: 0 });
        for (let i = 0; i < 30; i++) await embedded.publishAsync(`demo/${i % 3}`, String(i), { qos: 1 });
        await embedded.endAsync();
        await waitFor('deltas over the WebSocket', () => {
          const counts = new Map<string, number>();
          for (const e of client.events) {
            if (e.envelope.event !== 'explorer.delta') continue;
            for (const t of (e.envelope.data as ExplorerEvents['explorer.delta']).topics) counts.set(t.topic, t.count);
          }
          return [...counts.values()].reduce((a, b) => a + b, 0) === 30;
        });
        const series = await client.call('explorer.series', { connection: 'local', topic: 'demo/0' });
        assert.deepEqual(
          series.points.map((p) => p[1]),
          [0, 3, 6, 9, 12, 15, 18, 21, 24, 27],
        );
      } finally {
        await client.close();
      }
    } finally {
      const result = await cli.stop();
      assert.equal(result.code, 0, result.stderr);
    }
  });
});
