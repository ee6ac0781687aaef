import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { EventEnvelope, ProtocolEngineStatus } from '../../../shared/protocol/protocol.js';
import { brokerFixture } from '../../helpers/brokerFixture.js';
import { startCli, runCli } from '../../helpers/cli.js';
import { repoRoot } from '../../helpers/paths.js';
import { connectProtocol, openSocket } from '../../helpers/protocolClient.js';
import { waitFor } from '../../helpers/waitFor.js';

function statusEvents(events: readonly { envelope: EventEnvelope; at: number }[]) {
  return events
    .filter((e) => e.envelope.event === 'status')
    .map((e) => ({ at: e.at, status: e.envelope.data as ProtocolEngineStatus }));
}

describe('topicflow serve: the protocol over a WebSocket', () => {
  const fixture = brokerFixture();

  it('lists, opens, validates, saves and deploys flows; streams status; pages the store', async () => {
    const workspace = join(fixture.dir, 'flows');
    mkdirSync(workspace);
    copyFileSync(join(repoRoot, 'flows', 'pico-sensors.json'), join(workspace, 'pico-sensors.json'));
    const cli = startCli(
      [
        'serve',
        '--workspace',
        workspace,
        '--data-dir',
        join(fixture.dir, 'data'),
        '--port',
        '0',
        '--no-default-broker',
      ],
      {
        MQTT_URL: fixture.broker.url,
      },
    );
    try {
      const listening = await cli.waitForLog('serve listening');
      const url = String(listening['url']);
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
      await waitFor('the printed URL', () => cli.stdout().includes(`topicflow editor: ${url}\n`), 5000);
      const page = await fetch(url, { signal: AbortSignal.timeout(5000) });
      assert.match(await page.text(), /<title>TopicFlow<\/title>/);

      const client = await connectProtocol(`${url.replace('http', 'ws')}api`);
      try {
        const catalog = await client.call('catalog.get');
        const types = catalog.nodes.map((n) => n.type);
        assert.ok(types.includes('mqtt-in') && types.includes('sqlite-sink'), types.join());
        assert.ok(catalog.nodes.every((n) => Array.isArray(n.secrets) && !('check' in n)));

        assert.deepEqual(
          (await client.call('flows.list')).flows.map((f) => f.name),
          ['pico-sensors.json'],
        );
        const opened = await client.call('flows.open', { name: 'pico-sensors.json' });
        assert.equal(opened.validation.ok, true, JSON.stringify(opened.validation.problems));
        assert.equal((opened.document as { name: string }).name, 'Pico sensors to SQLite');

        const invalid = await client.call('flows.validate', {
          document: {
            format: 'topicflow/flow@1',
            name: 'broken',
            connections: [],
            nodes: [{ id: 'a', type: 'no-such-node', config: {} }],
            edges: [{ id: 'e', from: { node: 'a', port: 'out' }, to: { node: 'ghost', port: 'in' } }],
          },
        });
        assert.equal(invalid.ok, false);
        const pointers = invalid.problems.map((p) => p.pointer);
        assert.ok(pointers.includes('/nodes/0/type'), pointers.join());
        assert.ok(
          pointers.some((p) => p.startsWith('/edges/0')),
          pointers.join(),
        );

        const saved = await client.call('flows.save', { name: 'copy.json', document: opened.document });
        assert.equal(saved.validation.ok, true);
        assert.deepEqual((await client.call('flows.open', { name: 'copy.json' })).document, opened.document);
        assert.deepEqual(
          (await client.call('flows.list')).flows.map((f) => f.name),
          ['copy.json', 'pico-sensors.json'],
        );

        for (const name of ['../pico-sensors.json', '..json', 'sub/x.json', '/etc/passwd', 'x.txt']) {
          const error = await client.fail('flows.open', { name });
          assert.equal(error.code, 'invalid-params', name);
          assert.match(error.message, /not allowed|outside/);
        }
        assert.equal((await client.fail('flows.save', { name: '../evil.json', document: {} })).code, 'invalid-params');
        assert.equal((await client.fail('flows.open', { name: 'missing.json' })).code, 'not-found');

        client.sendRaw(JSON.stringify({ kind: 'request', id: 77, method: 'flows.delete', params: {} }));
        assert.equal(((await client.waitForResponse(77)) as { error: { code: string } }).error.code, 'unknown-method');
        client.sendRaw(JSON.stringify({ kind: 'request', id: 78, method: 'flows.list', params: [] }));
        assert.equal(((await client.waitForResponse(78)) as { error: { code: string } }).error.code, 'invalid-params');
        client.sendRaw('{not json');
        await waitFor('the answer to bad JSON', () => client.responses.find((r) => r.id === -1 && !r.ok), 5000);

        const deployed = await client.call('engine.deploy', { document: opened.document });
        assert.deepEqual([...deployed.added].sort(), ['pico-in', 'readings']);
        assert.match(deployed.revision, /^[0-9a-f]{12}$/);
        await waitFor('the deployed event', () => client.events.find((e) => e.envelope.event === 'deployed'), 5000);
        await cli.waitForLog('subscribed', { filter: 'pico/+/+' });

        const before = client.events.length;
        for (const value of ['22.4', '41', '23.6']) {
          await fixture.client.publishAsync('pico/temperature/dht22', value, { qos: 1 });
        }
        await fixture.client.publishAsync('pico/temperature/dht22', 'nan?', { qos: 1 });
        const moved = await waitFor(
          'a status event with the counters moved',
          () =>
            statusEvents(client.events.slice(before)).find(({ status }) => {
              const sink = status.nodes.find((n) => n.id === 'readings');
              return status.running && sink !== undefined && sink.counters.in >= 3;
            }),
          10_000,
        );
        assert.equal(moved.status.flow, 'Pico sensors to SQLite');
        assert.equal(moved.status.revision, deployed.revision);
        assert.equal(moved.status.connections[0]?.state, 'connected');

        // Watch for two more seconds: never more than 4 status events a second.
        await new Promise((resolve) => setTimeout(resolve, 2000));
        const times = statusEvents(client.events).map((e) => e.at);
        for (let i = 4; i < times.length; i++) {
          assert.ok((times[i] as number) - (times[i - 4] as number) >= 900, `5 status events within a second`);
        }

        const tables = await client.call('store.tables');
        const readings = tables.tables.find((t) => t.name === 'readings');
        assert.equal(readings?.rows, 3);
        assert.ok(readings.columns.includes('value'));
        const first = await client.call('store.rows', { table: 'readings', offset: 0, limit: 2 });
        assert.equal(first.total, 3);
        assert.equal(first.rows.length, 2);
        const rest = await client.call('store.rows', { table: 'readings', offset: 2, limit: 2 });
        assert.equal(rest.rows.length, 1);
        const valueAt = first.columns.indexOf('value');
        assert.deepEqual(
          [...first.rows, ...rest.rows].map((r) => r[valueAt]),
          [22.4, 41, 23.6],
        );
        assert.equal((await client.fail('store.rows', { table: 'readings', limit: 501 })).code, 'invalid-params');
        const injected = await client.fail('store.rows', { table: 'readings"; DROP TABLE readings; --' });
        assert.equal(injected.code, 'not-found');
        assert.equal((await client.call('store.tables')).tables.find((t) => t.name === 'readings')?.rows, 3);

        const letters = await waitFor(
          'the dead letter',
          async () => {
            const page = await client.call('deadLetters.list', { node: 'pico-in', limit: 10 });
            return page.items.length > 0 ? page : undefined;
          },
          10_000,
        );
        assert.equal(letters.total, 1);
        assert.equal(letters.items[0]?.preview, 'nan?');
        const letterId = letters.items[0].id;

        // Replay: the original bytes go back to the original topic on the flow's connection.
        const arrived: Buffer[] = [];
        const onMessage = (topic: string, payload: Buffer): void => {
          if (topic === 'pico/temperature/dht22') arrived.push(payload);
        };
        fixture.client.on('message', onMessage);
        await fixture.client.subscribeAsync('pico/temperature/dht22', { qos: 1 });
        try {
          const replay = await client.call('deadLetters.replay', { ids: [letterId, 999_999] });
          assert.equal(replay.replayed, 1);
          assert.deepEqual(replay.errors, [{ id: 999_999, error: 'no such dead letter' }]);
          await waitFor('the replayed bytes at a subscriber', () => arrived.length > 0, 5000);
          assert.deepEqual(arrived[0], Buffer.from('nan?'));
        } finally {
          fixture.client.off('message', onMessage);
          await fixture.client.unsubscribeAsync('pico/temperature/dht22');
        }
        const after = await waitFor(
          'the replayed message refused again, as a new dead letter',
          async () => {
            const page = await client.call('deadLetters.list', { node: 'pico-in', limit: 10 });
            return page.total === 2 ? page : undefined;
          },
          10_000,
        );
        const original = after.items.find((d) => d.id === letterId);
        assert.ok(original?.replayedAt !== null && original?.replayedAt !== undefined, 'marked replayed');
        assert.ok(original.replayedAt >= original.at);
        assert.equal(after.items[0]?.replayedAt, null);
        assert.equal(after.items[0]?.preview, 'nan?');
        assert.equal((await client.fail('deadLetters.replay', { ids: [] })).code, 'invalid-params');

        const purged = await client.call('deadLetters.purge', { ids: after.items.map((d) => d.id) });
        assert.equal(purged.purged, 2);
        assert.equal((await client.fail('deadLetters.purge', { ids: ['1'] })).code, 'invalid-params');

        const invalidDeploy = await client.fail('engine.deploy', { document: { format: 'topicflow/flow@1' } });
        assert.equal(invalidDeploy.code, 'invalid-flow');
        assert.ok((invalidDeploy.problems ?? []).length > 0);

        assert.deepEqual(await client.call('engine.stop'), { stopped: true });
        const status = await client.call('engine.status');
        assert.equal(status.running, false);
        assert.deepEqual(status.nodes, []);
        assert.equal((await client.fail('deadLetters.replay', { ids: [1] })).code, 'engine-stopped');
      } finally {
        await client.close();
      }
      const result = await cli.stop('SIGINT');
      assert.equal(result.code, 0, result.stderr);
    } finally {
      await cli.stop('SIGKILL', 5000);
    }
  });

  it('on a non-loopback address, generates a token and refuses a WebSocket without it', async () => {
    const cli = startCli(
      ['serve', '--workspace', fixture.dir, '--data-dir', join(fixture.dir, 'data2'), '--no-default-broker'],
      {},
    );
    const publicCli = startCli([
      'serve',
      '--host',
      '0.0.0.0',
      '--workspace',
      fixture.dir,
      '--data-dir',
      join(fixture.dir, 'data3'),
      '--no-default-broker',
    ]);
    try {
      const line = await waitFor(
        'the URL with a token',
        () => /topicflow editor: (\S+)\n/.exec(publicCli.stdout()),
        10_000,
      );
      const printed = new URL(line[1] as string);
      const token = printed.searchParams.get('token');
      assert.ok(token && token.length >= 16, printed.href);
      const api = `ws://127.0.0.1:${printed.port}/api`;
      await assert.rejects(openSocket(api), /HTTP 401/);
      await assert.rejects(openSocket(`${api}?token=wrong-token-wrong-token`), /HTTP 401/);
      const byQuery = await connectProtocol(`${api}?token=${token}`);
      assert.ok((await byQuery.call('catalog.get')).nodes.length > 0);
      await byQuery.close();
      const byProtocol = await connectProtocol(api, [`topicflow.token.${token}`]);
      assert.equal(byProtocol.socket.protocol, `topicflow.token.${token}`);
      await byProtocol.close();

      // Loopback without a token: open, but only to its own origin (or none).
      const local = String((await cli.waitForLog('serve listening'))['url']);
      const localApi = `${local.replace('http', 'ws')}api`;
      await (await connectProtocol(localApi)).close();
      await assert.rejects(
        new Promise((resolve, reject) => {
          void import('ws').then(({ default: WebSocket }) => {
            const socket = new WebSocket(localApi, { origin: 'http://evil.example' });
            socket.once('open', () => resolve(socket.close()));
            socket.once('unexpected-response', (_q, r) => reject(new Error(`HTTP ${r.statusCode}`)));
            socket.once('error', reject);
          });
        }),
        /HTTP 403/,
      );
      assert.equal((await publicCli.stop('SIGTERM')).code, 0);
    } finally {
      await cli.stop('SIGTERM');
      await publicCli.stop('SIGKILL', 5000);
    }
  });

  it('refuses a bad --token and a bad --port', async () => {
    const short = await runCli(['serve', '--token', 'short']);
    assert.equal(short.code, 2);
    assert.match(short.stderr, /--token must be at least 16/);
    const port = await runCli(['serve', '--port', '70000']);
    assert.equal(port.code, 2);
    assert.match(port.stderr, /--port 70000/);
  });
});
