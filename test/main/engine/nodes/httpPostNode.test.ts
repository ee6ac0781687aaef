import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { MqttClient } from 'mqtt';
import { testClient } from '../../../helpers/engineHarness.js';
import { freePort, startMosquitto, type Mosquitto } from '../../../helpers/mosquitto.js';
import { waitFor } from '../../../helpers/waitFor.js';
import { publishAll, startFlow, type RunningFlow } from '../engineTestKit.js';

interface Request {
  status?: number;
  readonly method: string | undefined;
  readonly url: string | undefined;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

let broker: Mosquitto;
let client: MqttClient;
let server: Server;
let base: string;
const requests: Request[] = [];
let active = 0;
let maxActive = 0;
const hanging: ServerResponse[] = [];
/** What /switch answers: 503 while 'failing', 200 when 'up'. */
let mode: 'failing' | 'up' = 'up';

/** Paths decide the answer: /ok 200, /fail 500, /missing 404, /slow 204 after 60 ms, /slower after 300 ms, /hang never, /switch per `mode`. */
function startServer(): Promise<void> {
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const request: Request = { method: req.method, url: req.url, headers: req.headers, body };
      requests.push(request);
      const finish = (status: number, text = ''): void => {
        request.status = status;
        res.writeHead(status, { 'content-type': 'text/plain' }).end(text);
      };
      if (req.url === '/ok') finish(200, 'thanks');
      else if (req.url === '/fail') finish(500, 'boom');
      else if (req.url === '/missing') finish(404, 'no such thing');
      else if (req.url === '/slow') {
        // Requests open at once on /slow, counted from when the body arrived until the answer.
        active++;
        maxActive = Math.max(maxActive, active);
        setTimeout(() => {
          active--;
          finish(204);
        }, 60);
      } else if (req.url === '/slower') setTimeout(() => finish(204), 300);
      else if (req.url === '/hang') hanging.push(res);
      else if (req.url === '/switch') finish(mode === 'up' ? 200 : 503, mode === 'up' ? '' : 'down for maintenance');
      else finish(400);
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
      resolve();
    }),
  );
}

before(async () => {
  broker = await startMosquitto();
  client = await testClient(broker.url);
  await startServer();
});

after(async () => {
  await client?.endAsync();
  await broker?.stop();
  for (const res of hanging) res.destroy();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
});

/** Requests received for `path` since the test began. */
const seen = (path: string, since: number) => requests.slice(since).filter((r) => r.url === path);

function postFlow(topic: string, config: Record<string, unknown>, env?: Record<string, string>): Promise<RunningFlow> {
  return startFlow(
    broker.url,
    [
      { id: 'in', type: 'mqtt-in', config: { connection: 'broker', topic, decoding: 'json' } },
      { id: 'post', type: 'http-post', config },
    ],
    [['in', 'out', 'post']],
    env ? { env } : {},
  );
}

const deadLetters = (run: RunningFlow, count: number) =>
  waitFor(`${count} dead letters`, () => {
    const found = run.deadLetters();
    return found.length >= count ? found : undefined;
  });

describe('http-post', () => {
  it('POSTs the payload as JSON with plain and secret headers', async (t) => {
    const since = requests.length;
    const token = 'tok-3f9a1c';
    const run = await postFlow(
      'h1/+',
      {
        url: `${base}/ok`,
        headers: { 'x-source': 'topicflow', 'X-Site': 'north' },
        secretHeaders: { authorization: 'Bearer ${env:TOKEN}' },
      },
      { TOKEN: token },
    );
    t.after(() => run.stop());
    const payload = { device: 'pump-7', temperature: 21.5, tags: ['a', 'b'], ok: true, none: null };
    await client.publishAsync('h1/pump-7', JSON.stringify(payload), { qos: 1 });

    const [request] = await waitFor('the request', () =>
      seen('/ok', since).length > 0 ? seen('/ok', since) : undefined,
    );
    assert.equal(request?.method, 'POST');
    assert.equal(request?.body, JSON.stringify(payload));
    assert.deepEqual(JSON.parse(request?.body ?? ''), payload);
    assert.equal(request?.headers['content-type'], 'application/json');
    assert.equal(request?.headers['x-source'], 'topicflow');
    assert.equal(request?.headers['x-site'], 'north');
    assert.equal(request?.headers['authorization'], `Bearer ${token}`);

    await waitFor('out counted', () => run.node('post').counters.out === 1);
    assert.deepEqual(run.deadLetters(), []);
    assert.ok(!JSON.stringify(run.logs).includes(token), 'the secret never reaches the log');
  });

  it('lets a configured Content-Type replace the default, whatever its case', async (t) => {
    const since = requests.length;
    const run = await postFlow('h2/+', { url: `${base}/ok`, headers: { 'Content-Type': 'application/vnd.x+json' } });
    t.after(() => run.stop());
    await client.publishAsync('h2/a', '"text"', { qos: 1 });
    const [request] = await waitFor('the request', () =>
      seen('/ok', since).length > 0 ? seen('/ok', since) : undefined,
    );
    assert.equal(request?.headers['content-type'], 'application/vnd.x+json');
    assert.equal(request?.body, '"text"');
  });

  it('dead-letters a 4xx answer at once, with the status in the reason', async (t) => {
    const run = await postFlow('h3/+', { url: `${base}/missing` });
    t.after(() => run.stop());
    await client.publishAsync('h3/b', '{"n":2}', { qos: 1 });
    const dead = await deadLetters(run, 1);
    assert.deepEqual(
      dead.map((d) => [d.node, d.reason, d.topic, d.payload?.toString()]),
      [['post', 'http-post: 404 Not Found: no such thing', 'h3/b', '{"n":2}']],
    );
    assert.equal(run.node('post').counters.out, 0);
    assert.equal(run.node('post').counters.errors, 1);
    await waitFor('the outbox empty', () => run.node('post').outbox?.depth === 0);
    assert.equal(run.rows('SELECT * FROM tf_outbox').length, 0);
  });

  it('keeps retrying 5xx, timeouts and an unreachable endpoint, and delivers once it answers', async (t) => {
    const port = await freePort();
    mode = 'failing';
    const runs = await Promise.all([
      postFlow('h4/+', { url: `http://127.0.0.1:${port}/ingest`, timeoutMs: 5000, retryBaseMs: 20, retryMaxMs: 100 }),
      postFlow('h5/+', { url: `${base}/switch`, retryBaseMs: 20, retryMaxMs: 100 }),
      postFlow('h8/+', { url: `${base}/hang`, timeoutMs: 100, retryBaseMs: 20, retryMaxMs: 100 }),
    ]);
    t.after(() => Promise.all(runs.map((r) => r.stop())));
    const [unreachable, failing, hangs] = runs as [RunningFlow, RunningFlow, RunningFlow];
    await client.publishAsync('h4/a', '{"n":1}', { qos: 1 });
    await client.publishAsync('h5/a', '{"n":2}', { qos: 1 });
    await client.publishAsync('h8/a', '{"n":3}', { qos: 1 });
    for (const [run, error] of [
      [unreachable, /^http-post: fetch failed \(.*ECONNREFUSED/],
      [failing, /^http-post: 503 Service Unavailable/],
      [hangs, /^http-post: .*(timeout|aborted)/i],
    ] as const) {
      await waitFor('3 retries', () => (run.node('post').outbox?.retries ?? 0) >= 3);
      const outbox = run.node('post').outbox;
      assert.equal(outbox?.depth, 1);
      assert.equal(outbox?.failing, true);
      assert.match(outbox?.lastError ?? '', error);
      assert.deepEqual(run.deadLetters(), []);
      const [row] = run.rows<{ attempts: number; last_error: string }>('SELECT attempts, last_error FROM tf_outbox');
      assert.ok((row?.attempts ?? 0) >= 3);
    }
    // The endpoints come back: a server on the refused port, and /switch answering 200.
    const late = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200).end());
    });
    await new Promise<void>((resolve) => late.listen(port, '127.0.0.1', resolve));
    t.after(() => new Promise((resolve) => late.close(resolve)));
    mode = 'up';
    for (const run of [unreachable, failing]) {
      await waitFor('delivered', () => run.node('post').counters.out === 1);
      assert.equal(run.node('post').outbox?.failing, false);
      await waitFor('outbox emptied', () => run.rows('SELECT * FROM tf_outbox').length === 0);
    }
  });

  it('sends the highest priority first once the endpoint is back, each priority in arrival order', async (t) => {
    const since = requests.length;
    mode = 'failing';
    const run = await postFlow('h9/+', {
      url: `${base}/switch`,
      maxInFlight: 1,
      priority: 1,
      priorityFrom: 'level = "alarm" ? 10 : level = "debug" ? -5 : undefined',
      retryBaseMs: 20,
      retryMaxMs: 100,
    });
    t.after(() => run.stop());
    const levels = ['info', 'alarm', 'debug', 'info', 'alarm', 'debug', 'alarm', 'info'];
    await publishAll(
      client,
      'h9/a',
      levels.map((level, n) => JSON.stringify({ n, level })),
    );
    await waitFor('all queued', () => run.node('post').outbox?.depth === levels.length);
    const priorities = run
      .rows<{ priority: number }>('SELECT priority FROM tf_outbox ORDER BY id')
      .map((r) => r.priority);
    assert.deepEqual(priorities, [1, 10, -5, 1, 10, -5, 10, 1]);
    const failedBefore = seen('/switch', since).length;
    mode = 'up';
    await waitFor('all sent', () => run.node('post').counters.out === levels.length);
    const delivered = seen('/switch', since)
      .slice(failedBefore)
      .filter((r) => r.status === 200)
      .map((r) => (JSON.parse(r.body) as { n: number }).n);
    assert.deepEqual(delivered, [1, 4, 6, 0, 3, 7, 2, 5]);
  });

  it('evicts the lowest priority, oldest messages to the dead letters when the outbox is full', async (t) => {
    mode = 'failing';
    const run = await postFlow('h7/+', {
      url: `${base}/switch`,
      maxInFlight: 1,
      outboxMaxMessages: 3,
      priorityFrom: 'p',
      retryBaseMs: 5000,
      retryMaxMs: 5000,
    });
    t.after(() => run.stop());
    // One at a time (each committed before the next), so evictions happen in a known order.
    for (const [n, p] of [
      [0, 1],
      [1, 0],
      [2, 5],
      [3, 0],
      [4, 1],
      [5, 9],
    ] as const) {
      await client.publishAsync('h7/a', JSON.stringify({ n, p }), { qos: 1 });
      await waitFor(`message ${n} queued`, () =>
        run.rows<{ c: number }>('SELECT count(*) AS c FROM tf_outbox')[0]?.c === Math.min(n + 1, 3) ? true : undefined,
      );
    }
    const dead = await deadLetters(run, 3);
    // n=0 went out first and failed: it is the one in flight or waiting; evicted: lowest priority, oldest first.
    assert.deepEqual(
      dead.map((d) => [JSON.parse(d.payload?.toString() ?? '{}').n, d.reason]),
      [
        [1, 'outbox full (3 messages / 67108864 bytes): evicted, priority 0'],
        [3, 'outbox full (3 messages / 67108864 bytes): evicted, priority 0'],
        [0, 'outbox full (3 messages / 67108864 bytes): evicted, priority 1'],
      ].filter(Boolean),
    );
    const left = run.rows<{ body: Buffer }>('SELECT body FROM tf_outbox ORDER BY priority DESC, id');
    assert.deepEqual(
      left.map((r) => JSON.parse(r.body.toString()).n),
      [5, 2, 4],
    );
    assert.equal(run.node('post').outbox?.evicted, 3);
    assert.ok(
      run.logs.some((l) => l.msg === 'outbox full: evicted the lowest-priority, oldest messages to the dead letters'),
    );
  });

  it('never has more than maxInFlight requests open, and sends every message', async (t) => {
    const since = requests.length;
    maxActive = 0;
    const run = await postFlow('h6/+', { url: `${base}/slow`, maxInFlight: 2 });
    t.after(() => run.stop());
    await publishAll(
      client,
      'h6/a',
      Array.from({ length: 10 }, (_, n) => JSON.stringify({ n })),
    );
    await waitFor('10 requests answered', () => run.node('post').counters.out === 10);
    assert.equal(maxActive, 2);
    assert.deepEqual(
      seen('/slow', since)
        .map((r) => (JSON.parse(r.body) as { n: number }).n)
        .sort((a, b) => a - b),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
    assert.deepEqual(run.deadLetters(), []);
  });
});
