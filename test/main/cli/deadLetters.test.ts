import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { MqttClient } from 'mqtt';
import {
  DeadLetterQueries,
  MAX_PAGE_SIZE,
  StoreNotFoundError,
  openDeadLetterDb,
} from '../../../main/engine/store/deadLetters.js';
import { silentLogger } from '../../../main/engine/logger.js';
import { DEAD_LETTER_MAX_BYTES, STORE_FILE, Store, type DeadLetter } from '../../../main/engine/store/store.js';
import { runCli, startCli } from '../../helpers/cli.js';
import { testClient } from '../../helpers/engineHarness.js';
import { freePort, startMosquitto, type Mosquitto } from '../../helpers/mosquitto.js';
import { tempDir } from '../../helpers/paths.js';
import { waitFor } from '../../helpers/waitFor.js';

const DAY = 86_400_000;
/** Every byte value, including ones that are never valid UTF-8. */
const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

type Letter = Partial<DeadLetter> & Pick<DeadLetter, 'node'>;

/** Records dead letters through the engine's own Store (as a running flow would), then closes it. */
function seed(dataDir: string, letters: Letter[]): void {
  const store = Store.open(dataDir, silentLogger());
  try {
    letters.forEach((l, i) =>
      store.addDeadLetter({
        at: Date.now(),
        seq: i + 1,
        flow: 'test',
        revision: 'r1',
        reason: 'test reason',
        topic: `t/${l.node}`,
        qos: 1,
        payload: Buffer.from(`payload ${i + 1}`),
        ...l,
      }),
    );
    store.flush();
  } finally {
    store.close();
  }
}

interface Row {
  id: number;
  node: string;
  topic: string | null;
  payload: Buffer | null;
  replayed_at: number | null;
}

function rows(dataDir: string): Row[] {
  const db = new Database(join(dataDir, STORE_FILE), { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT id, node, topic, payload, replayed_at FROM tf_dead_letters ORDER BY id').all() as Row[];
  } finally {
    db.close();
  }
}

function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

interface Received {
  topic: string;
  payload: Buffer;
  qos: number;
}

/** A subscriber on `filter` that collects what it receives. */
async function subscriber(url: string, filter: string): Promise<{ client: MqttClient; received: Received[] }> {
  const client = await testClient(url);
  const received: Received[] = [];
  client.on('message', (topic, payload, packet) =>
    received.push({ topic, payload: Buffer.from(payload), qos: packet.qos }),
  );
  await client.subscribeAsync(filter, { qos: 2 });
  return { client, received };
}

describe('DeadLetterQueries', () => {
  const tmp = tempDir();
  after(() => tmp.cleanup());

  it('lists in pages with filters, counts, gets, marks replayed and purges', () => {
    const dir = join(tmp.path, 'queries');
    const now = Date.now();
    seed(dir, [
      { node: 'a', reason: 'Payload is NOT a number', at: now - 10 * DAY },
      { node: 'b', reason: 'schema: /temp must be number' },
      { node: 'a', reason: 'invalid UTF-8' },
      { node: 'a', reason: 'not a number either' },
    ]);
    const db = openDeadLetterDb(dir);
    try {
      const q = new DeadLetterQueries(db);
      assert.deepEqual(
        q.list().map((d) => d.id),
        [4, 3, 2, 1],
      );
      assert.deepEqual(
        q.list({ order: 'id', limit: 2 }).map((d) => d.id),
        [1, 2],
      );
      assert.deepEqual(
        q.list({ node: 'a', sinceId: 1 }).map((d) => d.id),
        [4, 3],
      );
      assert.deepEqual(
        q.list({ beforeId: 3 }).map((d) => d.id),
        [2, 1],
      );
      assert.deepEqual(
        q.list({ reason: 'not a NUMBER' }).map((d) => d.id),
        [4, 1],
      );
      assert.equal(q.count(), 4);
      assert.equal(q.count({ node: 'a' }), 3);
      assert.equal(q.list({ payload: false })[0]?.payload, null);
      const [first] = q.get([1, 99]);
      assert.equal(q.get([1, 99]).length, 1);
      assert.equal(first?.payload?.toString(), 'payload 1');
      assert.equal(first?.storedSize, 'payload 1'.length);
      assert.throws(() => q.list({ limit: MAX_PAGE_SIZE + 1 }), /limit must be an integer/);
      assert.throws(() => q.list({ limit: 0 }), /limit must be an integer/);

      assert.equal(q.markReplayed([2, 3], 1234), 2);
      assert.deepEqual(
        q.list({ replayed: true }).map((d) => [d.id, d.replayedAt]),
        [
          [3, 1234],
          [2, 1234],
        ],
      );
      assert.equal(q.count({ replayed: false }), 2);

      assert.throws(() => q.purge({}), /purge needs a filter/);
      assert.equal(q.purge({ ids: [] }), 0);
      assert.equal(q.purge({ before: now - DAY }), 1);
      assert.equal(q.purge({ node: 'a', replayed: true }), 1);
      assert.deepEqual(
        q.list().map((d) => d.id),
        [4, 2],
      );
      assert.equal(q.purge({ all: true }), 2);
      assert.equal(q.count(), 0);
    } finally {
      db.close();
    }
  });

  it('never creates a store file, and says where it looked', () => {
    const dir = join(tmp.path, 'absent');
    assert.throws(
      () => openDeadLetterDb(dir),
      (error: unknown) => error instanceof StoreNotFoundError && error.message.includes(join(dir, STORE_FILE)),
    );
    assert.equal(existsSync(dir), false);
  });

  it('refuses a SQLite file that is not a TopicFlow store', () => {
    const dir = join(tmp.path, 'other');
    mkdirSync(dir);
    new Database(join(dir, STORE_FILE)).exec('CREATE TABLE t (x)').close();
    assert.throws(() => openDeadLetterDb(dir), /has no tf_dead_letters table: not a TopicFlow store/);
  });
});

describe('topicflow dead-letters list', () => {
  const tmp = tempDir();
  const dataDir = join(tmp.path, 'data');
  const longReason = `schema: ${'x'.repeat(200)} END`;
  before(() =>
    seed(dataDir, [
      {
        node: 'pico-in',
        reason: 'payload is not a number: "nan?"',
        topic: 'pico/temperature/dht22',
        at: Date.UTC(2024, 0, 2, 3, 4, 5, 6),
        payload: Buffer.from('nan?'),
      },
      { node: 'bin-in', reason: 'invalid UTF-8', topic: 'raw/bytes', payload: ALL_BYTES },
      { node: 'validate', reason: longReason, topic: 'evil/\u001b[2J\ntopic', payload: Buffer.from('température') },
      {
        node: 'big-in',
        reason: 'payload too large',
        topic: 'big',
        payload: Buffer.alloc(DEAD_LETTER_MAX_BYTES + 10, 7),
      },
    ]),
  );
  after(() => tmp.cleanup());

  it('prints a table, newest first, with reasons truncated and control characters escaped', async () => {
    const result = await runCli(['dead-letters', 'list', '--data-dir', dataDir]);
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.trimEnd().split('\n');
    assert.match(lines[0] as string, /^ID\s+TIME\s+NODE\s+TOPIC\s+SIZE\s+REPLAYED\s+REASON$/);
    assert.deepEqual(
      lines.slice(1, 5).map((l) => l.split(/\s+/)[0]),
      ['4', '3', '2', '1'],
    );
    assert.match(
      lines[4] as string,
      /^1\s+2024-01-02T03:04:05\.006Z\s+pico-in\s+pico\/temperature\/dht22\s+4\s+-\s+payload is not a number: "nan\?"$/,
    );
    assert.match(lines[3] as string, /^2\s+\S+\s+bin-in\s+raw\/bytes\s+256\s+-\s+invalid UTF-8$/);
    const three = lines[2] as string;
    assert.ok(three.includes('evil/\\u001b[2J\\ntopic'), three);
    assert.ok(!result.stdout.includes('\u001b'), 'no raw escape character reaches the terminal');
    assert.ok(three.endsWith('…') && !three.includes('END'), `reason truncated: ${three}`);
    assert.match(lines[1] as string, new RegExp(`^4\\s+\\S+\\s+big-in\\s+big\\s+${DEAD_LETTER_MAX_BYTES + 10}\\*\\s`));
    assert.match(result.stdout, /^\* payload larger than the 1048576 bytes kept$/m);
    assert.match(result.stdout, /^4 dead letters$/m);
  });

  it('filters by node and pages with --limit', async () => {
    const byNode = await runCli(['dead-letters', 'list', '--data-dir', dataDir, '--node', 'bin-in']);
    assert.equal(byNode.code, 0, byNode.stderr);
    assert.deepEqual(
      byNode.stdout
        .trimEnd()
        .split('\n')
        .slice(1)
        .map((l) => l.split(/\s+/)[0]),
      ['2', '1'],
      byNode.stdout,
    );
    assert.match(byNode.stdout, /^1 dead letter$/m);
    const page = await runCli(['dead-letters', 'list', '--data-dir', dataDir, '--limit', '2']);
    assert.equal(page.code, 0, page.stderr);
    assert.match(page.stdout, /^2 of 4 dead letters \(newest first\); next page: --before-id 3$/m);
    const next = await runCli(['dead-letters', 'list', '--data-dir', dataDir, '--limit', '2', '--before-id', '3']);
    assert.deepEqual(
      next.stdout
        .split('\n')
        .slice(1, 3)
        .map((l) => l.split(/\s+/)[0]),
      ['2', '1'],
    );
  });

  it('prints JSON lines whose base64 payload is the original bytes, with text when it is UTF-8', async () => {
    const result = await runCli(['dead-letters', 'list', '--data-dir', dataDir, '--json']);
    assert.equal(result.code, 0, result.stderr);
    const lines = jsonLines(result.stdout);
    assert.deepEqual(
      lines.map((l) => l['id']),
      [4, 3, 2, 1],
    );
    const [big, utf8, binary, pico] = lines as [
      Record<string, unknown>,
      Record<string, unknown>,
      Record<string, unknown>,
      Record<string, unknown>,
    ];
    assert.deepEqual(Buffer.from(binary['payload'] as string, 'base64'), ALL_BYTES);
    assert.equal('text' in binary, false, 'no text for bytes that are not UTF-8');
    assert.equal(utf8['text'], 'température');
    assert.equal(utf8['reason'], longReason, 'JSON keeps the whole reason');
    assert.equal(utf8['topic'], 'evil/\u001b[2J\ntopic');
    assert.deepEqual(
      { ...pico, at: undefined },
      {
        id: 1,
        time: '2024-01-02T03:04:05.006Z',
        at: undefined,
        seq: 1,
        flow: 'test',
        revision: 'r1',
        node: 'pico-in',
        reason: 'payload is not a number: "nan?"',
        topic: 'pico/temperature/dht22',
        qos: 1,
        size: 4,
        truncated: false,
        replayedAt: null,
        payload: Buffer.from('nan?').toString('base64'),
        text: 'nan?',
      },
    );
    assert.equal(big['truncated'], true);
    assert.equal(big['size'], DEAD_LETTER_MAX_BYTES + 10);
    assert.equal(Buffer.from(big['payload'] as string, 'base64').length, DEAD_LETTER_MAX_BYTES);
  });

  it('fails clearly on a missing store without creating one, and on bad arguments', async () => {
    const missing = join(tmp.path, 'nowhere');
    for (const sub of [['list'], ['purge', '--all'], ['replay', '--all', '--url', 'mqtt://127.0.0.1:1']]) {
      const result = await runCli(['dead-letters', ...sub, '--data-dir', missing]);
      assert.equal(result.code, 1, `${sub.join(' ')}: ${result.stderr}`);
      assert.ok(
        result.stderr.includes(`no TopicFlow store at ${join(missing, STORE_FILE)}`),
        `${sub.join(' ')}: ${result.stderr}`,
      );
      assert.equal(existsSync(missing), false, `${sub.join(' ')} created nothing`);
    }
    const badLimit = await runCli(['dead-letters', 'list', '--data-dir', dataDir, '--limit', 'lots']);
    assert.equal(badLimit.code, 2);
    assert.match(badLimit.stderr, /--limit: "lots" is not an integer from 1 to 10000/);
    const unknown = await runCli(['dead-letters', 'list', '--data-dir', dataDir, '--colour']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /--colour/);
    const noSub = await runCli(['dead-letters']);
    assert.equal(noSub.code, 2);
    assert.match(noSub.stderr, /name a subcommand/);
    assert.match(noSub.stderr, /topicflow dead-letters replay --url/);
  });
});

describe('topicflow dead-letters replay', () => {
  const tmp = tempDir();
  let broker: Mosquitto;
  before(async () => {
    broker = await startMosquitto();
  });
  after(async () => {
    await broker?.stop();
    tmp.cleanup();
  });

  it('replays the dead letters of a running flow: exact bytes, original topics, marked once acknowledged', async () => {
    const dataDir = join(tmp.path, 'flow');
    const cli = startCli(['run', 'flows/pico-sensors.json', '--data-dir', dataDir], { MQTT_URL: broker.url });
    const publisher = await testClient(broker.url);
    const watch = await subscriber(broker.url, 'pico/#');
    try {
      await cli.waitForLog('subscribed', { filter: 'pico/+/+' });
      const binary = Buffer.from([0xff, 0xfe, 0x00, 0x41, 0x80]);
      await publisher.publishAsync('pico/temperature/dht22', 'nan?', { qos: 1 });
      await publisher.publishAsync('pico/humidity/sht31', binary, { qos: 1 });
      await publisher.publishAsync('pico/humidity/sht31', '41.5', { qos: 1 });
      await waitFor('two dead letters', () => existsSync(join(dataDir, STORE_FILE)) && rows(dataDir).length === 2);
      await waitFor('the subscriber saw the three originals', () => watch.received.length === 3);
      watch.received.length = 0;

      // The engine is still running: the store is shared through WAL.
      const listed = await runCli(['dead-letters', 'list', '--data-dir', dataDir, '--json']);
      assert.equal(listed.code, 0, listed.stderr);
      const lines = jsonLines(listed.stdout);
      assert.deepEqual(
        lines.map((l) => [l['id'], l['node'], l['topic'], l['qos']]),
        [
          [2, 'pico-in', 'pico/humidity/sht31', 1],
          [1, 'pico-in', 'pico/temperature/dht22', 1],
        ],
      );
      assert.deepEqual(Buffer.from(lines[0]?.['payload'] as string, 'base64'), binary);

      const startedAt = Date.now();
      const replay = await runCli(['dead-letters', 'replay', '--data-dir', dataDir, '--all', '--url', broker.url]);
      assert.equal(replay.code, 0, replay.stdout + replay.stderr);
      assert.match(replay.stdout, /^replayed 1: pico\/temperature\/dht22 \(4 bytes, QoS 1\)$/m);
      assert.match(replay.stdout, /^replayed 2: pico\/humidity\/sht31 \(5 bytes, QoS 1\)$/m);
      assert.match(replay.stdout, /^replayed 2 of 2 dead letter\(s\) to mqtt:\/\/127\.0\.0\.1:\d+\/?$/m);

      await waitFor('the replayed messages', () => watch.received.length === 2);
      assert.deepEqual(
        watch.received.map((m) => [m.topic, m.payload, m.qos]),
        [
          ['pico/temperature/dht22', Buffer.from('nan?'), 1],
          ['pico/humidity/sht31', binary, 1],
        ],
      );
      // The running flow refuses them again: new dead letters, which this replay did not pick up.
      await waitFor('the flow dead-letters the replayed messages again', () => rows(dataDir).length === 4);
      const after = rows(dataDir);
      for (const row of after.slice(0, 2)) {
        assert.ok(row.replayed_at !== null && row.replayed_at >= startedAt, `row ${row.id} marked replayed`);
      }
      assert.deepEqual(
        after.slice(2).map((r) => [r.topic, r.payload, r.replayed_at]),
        [
          ['pico/temperature/dht22', Buffer.from('nan?'), null],
          ['pico/humidity/sht31', binary, null],
        ],
      );

      const listedAfter = await runCli(['dead-letters', 'list', '--data-dir', dataDir]);
      assert.match(listedAfter.stdout, /^1\s+\S+\s+pico-in\s+pico\/temperature\/dht22\s+4\s+yes\s/m);
      assert.match(listedAfter.stdout, /^3\s+\S+\s+pico-in\s+pico\/temperature\/dht22\s+4\s+-\s/m);

      assert.equal((await cli.stop('SIGTERM')).code, 0);
      const purged = await runCli(['dead-letters', 'purge', '--data-dir', dataDir, '--replayed']);
      assert.equal(purged.code, 0, purged.stderr);
      assert.match(purged.stdout, /^purged 2 dead letters from .*topicflow\.db$/m);
      assert.deepEqual(
        rows(dataDir).map((r) => r.id),
        [3, 4],
      );
    } finally {
      await cli.stop('SIGKILL');
      await publisher.endAsync();
      await watch.client.endAsync();
    }
  });

  it('publishes QoS 0 letters at QoS 1 and QoS 2 at QoS 2, selects by id and node, skips what cannot be replayed', async () => {
    const dataDir = join(tmp.path, 'seeded');
    seed(dataDir, [
      { node: 'n0', topic: 'replay/q0', qos: 0, payload: Buffer.from('zero') },
      { node: 'n2', topic: 'replay/q2', qos: 2, payload: ALL_BYTES },
      { node: 'n2', topic: undefined, payload: Buffer.from('no topic') },
      { node: 'n2', topic: 'replay/empty', payload: Buffer.alloc(0) },
      { node: 'n2', topic: 'replay/big', payload: Buffer.alloc(DEAD_LETTER_MAX_BYTES + 1, 1) },
      { node: 'n0', topic: 'replay/untouched', payload: Buffer.from('not selected') },
    ]);
    const watch = await subscriber(broker.url, 'replay/#');
    try {
      const none = await runCli(['dead-letters', 'replay', '--data-dir', dataDir, '--url', broker.url]);
      assert.equal(none.code, 2);
      assert.match(none.stderr, /nothing selected: name the dead letters to replay with --id N, --node ID or --all/);
      const noUrl = await runCli(['dead-letters', 'replay', '--data-dir', dataDir, '--all']);
      assert.equal(noUrl.code, 2);
      assert.match(noUrl.stderr, /--url is required/);
      const noNode = await runCli([
        'dead-letters',
        'replay',
        '--data-dir',
        dataDir,
        '--node',
        'ghost',
        '--url',
        broker.url,
      ]);
      assert.equal(noNode.code, 1);
      assert.match(noNode.stderr, /no dead letters from node "ghost"/);

      const byId = await runCli([
        'dead-letters',
        'replay',
        '--data-dir',
        dataDir,
        '--id',
        '1',
        '--id',
        '42',
        '--url',
        broker.url,
      ]);
      assert.equal(byId.code, 1, 'an id that is not there is a failure');
      assert.match(byId.stdout, /^failed 42: no dead letter with this id$/m);
      assert.match(byId.stdout, /^replayed 1: replay\/q0 \(4 bytes, QoS 1\)$/m);

      const byNode = await runCli([
        'dead-letters',
        'replay',
        '--data-dir',
        dataDir,
        '--node',
        'n2',
        '--url',
        broker.url,
      ]);
      assert.equal(byNode.code, 1, byNode.stdout + byNode.stderr);
      assert.match(byNode.stdout, /^replayed 2: replay\/q2 \(256 bytes, QoS 2\)$/m);
      assert.match(byNode.stdout, /^skipped 3: no topic$/m);
      assert.match(byNode.stdout, /^skipped 4: empty payload$/m);
      assert.match(byNode.stdout, /^skipped 5: payload truncated \(1048576 of 1048577 bytes kept\)$/m);
      assert.match(byNode.stdout, /^replayed 1 of 4 dead letter\(s\) to .* \(3 skipped, 0 failed\)$/m);

      await waitFor('two replayed messages', () => watch.received.length === 2);
      assert.deepEqual(
        watch.received.map((m) => [m.topic, m.payload, m.qos]),
        [
          ['replay/q0', Buffer.from('zero'), 1],
          ['replay/q2', ALL_BYTES, 2],
        ],
      );
      assert.deepEqual(
        rows(dataDir).map((r) => [r.id, r.replayed_at !== null]),
        [
          [1, true],
          [2, true],
          [3, false],
          [4, false],
          [5, false],
          [6, false],
        ],
      );

      // --node skips those replayed already unless --include-replayed.
      const again = await runCli([
        'dead-letters',
        'replay',
        '--data-dir',
        dataDir,
        '--node',
        'n0',
        '--url',
        broker.url,
      ]);
      assert.equal(again.code, 0, again.stdout + again.stderr);
      assert.match(again.stdout, /^replayed 6: replay\/untouched/m);
      assert.doesNotMatch(again.stdout, /replayed 1:/);
      const nothing = await runCli([
        'dead-letters',
        'replay',
        '--data-dir',
        dataDir,
        '--node',
        'n0',
        '--url',
        broker.url,
      ]);
      assert.equal(nothing.code, 0);
      assert.match(nothing.stdout, /nothing to replay: the 2 selected dead letter\(s\) were replayed already/);
      const included = await runCli([
        'dead-letters',
        'replay',
        '--data-dir',
        dataDir,
        '--node',
        'n0',
        '--include-replayed',
        '--url',
        broker.url,
      ]);
      assert.equal(included.code, 0, included.stdout + included.stderr);
      assert.match(included.stdout, /^replayed 2 of 2 dead letter\(s\)/m);
      await waitFor('five messages in all', () => watch.received.length === 5);
    } finally {
      await watch.client.endAsync();
    }
  });

  it('never prints the password', async () => {
    const dataDir = join(tmp.path, 'secret');
    seed(dataDir, [{ node: 'n', topic: 'secret/t', payload: Buffer.from('x') }]);
    const url = broker.url.replace('mqtt://', 'mqtt://alice:url-hunter2@');
    const ok = await runCli(
      [
        'dead-letters',
        'replay',
        '--data-dir',
        dataDir,
        '--all',
        '--url',
        url,
        '--username',
        'bob',
        '--password-env',
        'TF_PW',
      ],
      { TF_PW: 'env-hunter2' },
    );
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /to mqtt:\/\/alice:\*\*\*@127\.0\.0\.1/);
    const down = await runCli(
      [
        'dead-letters',
        'replay',
        '--data-dir',
        dataDir,
        '--id',
        '1',
        '--url',
        `mqtt://alice:url-hunter2@127.0.0.1:${await freePort()}`,
        '--username',
        'bob',
        '--password-env',
        'TF_PW',
      ],
      { TF_PW: 'env-hunter2' },
    );
    assert.equal(down.code, 1);
    for (const output of [ok.stdout, ok.stderr, down.stdout, down.stderr]) {
      assert.doesNotMatch(output, /hunter2/);
    }
    const unset = await runCli([
      'dead-letters',
      'replay',
      '--data-dir',
      dataDir,
      '--all',
      '--url',
      broker.url,
      '--username',
      'bob',
      '--password-env',
      'TF_UNSET',
    ]);
    assert.equal(unset.code, 2);
    assert.match(unset.stderr, /the environment variable TF_UNSET is not set/);
  });
});

describe('topicflow dead-letters replay to a broker that is not there', () => {
  const tmp = tempDir();
  const dataDir = join(tmp.path, 'data');
  let silent: Server;
  const sockets: Socket[] = [];
  before(async () => {
    seed(dataDir, [
      { node: 'n', topic: 'a', payload: Buffer.from('1') },
      { node: 'n', topic: 'b', payload: Buffer.from('2') },
    ]);
    // Accepts TCP connections and never answers: a broker that hangs.
    silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => silent.close(resolve));
    tmp.cleanup();
  });

  it('fails at once on a refused connection, names the URL and marks nothing', async () => {
    const url = `mqtt://127.0.0.1:${await freePort()}`;
    const started = Date.now();
    const result = await runCli(['dead-letters', 'replay', '--data-dir', dataDir, '--all', '--url', url], {}, 15_000);
    const elapsed = Date.now() - started;
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.ok(
      result.stderr.includes(`cannot reach the broker at ${url}`) && result.stderr.includes('ECONNREFUSED'),
      result.stderr,
    );
    assert.match(result.stderr, /nothing replayed/);
    assert.ok(elapsed < 6000, `failed within a few seconds (${elapsed} ms)`);
    assert.deepEqual(
      rows(dataDir).map((r) => r.replayed_at),
      [null, null],
    );
  });

  it('gives up on a broker that never answers after --timeout', async () => {
    const port = (silent.address() as { port: number }).port;
    const url = `mqtt://127.0.0.1:${port}`;
    const started = Date.now();
    const result = await runCli(
      ['dead-letters', 'replay', '--data-dir', dataDir, '--all', '--url', url, '--timeout', '1000'],
      {},
      15_000,
    );
    const elapsed = Date.now() - started;
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.ok(result.stderr.includes(`cannot reach the broker at ${url}`), result.stderr);
    assert.match(result.stderr, /no answer within 1000 ms/);
    assert.ok(elapsed >= 1000 && elapsed < 7000, `gave up after the timeout (${elapsed} ms)`);
    assert.deepEqual(
      rows(dataDir).map((r) => r.replayed_at),
      [null, null],
    );
  });
});

describe('topicflow dead-letters purge', () => {
  const tmp = tempDir();
  after(() => tmp.cleanup());

  /** A fresh store: 1 and 2 are ten days old, 3 is replayed, nodes a/b. */
  function fresh(name: string): string {
    const dir = join(tmp.path, name);
    const now = Date.now();
    seed(dir, [
      { node: 'a', at: now - 10 * DAY },
      { node: 'b', at: now - 10 * DAY },
      { node: 'a' },
      { node: 'b' },
      { node: 'a' },
    ]);
    const db = openDeadLetterDb(dir);
    new DeadLetterQueries(db).markReplayed([3]);
    db.close();
    return dir;
  }

  const cases: { args: string[]; purged: number; left: number[] }[] = [
    { args: ['--all'], purged: 5, left: [] },
    { args: ['--node', 'a'], purged: 3, left: [2, 4] },
    { args: ['--id', '1', '--id', '4,5'], purged: 3, left: [2, 3] },
    { args: ['--replayed'], purged: 1, left: [1, 2, 4, 5] },
    { args: ['--older-than', '7'], purged: 2, left: [3, 4, 5] },
    { args: ['--older-than', '30'], purged: 0, left: [1, 2, 3, 4, 5] },
    { args: ['--node', 'a', '--older-than', '7'], purged: 1, left: [2, 3, 4, 5] },
  ];
  for (const [i, c] of cases.entries()) {
    it(`purge ${c.args.join(' ')}`, async () => {
      const dir = fresh(`case-${i}`);
      const result = await runCli(['dead-letters', 'purge', '--data-dir', dir, ...c.args]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, new RegExp(`^purged ${c.purged} dead letters? from ${join(dir, STORE_FILE)}$`, 'm'));
      assert.deepEqual(
        rows(dir).map((r) => r.id),
        c.left,
      );
    });
  }

  it('refuses to purge without a filter, --all with filters and bad values, deleting nothing', async () => {
    const dir = fresh('refused');
    const refusals: [string[], RegExp][] = [
      [[], /say what to purge: --all, --node ID, --id N, --replayed or --older-than DAYS/],
      [['--all', '--node', 'a'], /--all deletes every dead letter: give it alone/],
      [['--older-than', 'soon'], /--older-than: "soon" is not a number of days/],
      [['--id', '0'], /--id: "0" is not a dead-letter id/],
      [['--id', '3', '4'], /unexpected argument "4"/],
    ];
    for (const [args, message] of refusals) {
      const result = await runCli(['dead-letters', 'purge', '--data-dir', dir, ...args]);
      assert.equal(result.code, 2, args.join(' '));
      assert.match(result.stderr, message);
    }
    assert.equal(rows(dir).length, 5);
  });

  it('writes to a store while another process holds it (WAL, busy timeout)', async () => {
    const dir = fresh('concurrent');
    const holder = Store.open(dir, silentLogger());
    try {
      const result = await runCli(['dead-letters', 'purge', '--data-dir', dir, '--node', 'b']);
      assert.equal(result.code, 0, result.stderr);
      assert.equal((holder.db.prepare('SELECT count(*) AS n FROM tf_dead_letters').get() as { n: number }).n, 3);
    } finally {
      holder.close();
    }
  });
});
