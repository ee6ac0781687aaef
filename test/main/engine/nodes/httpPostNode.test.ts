import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { MqttClient } from 'mqtt';
import { testClient } from '../../../helpers/engineHarness.js';
import { freePort, startMosquitto, type Mosquitto } from '../../../helpers/mosquitto.js';
import { waitFor } from '../../../helpers/waitFor.js';
import { publishAll, settle, startFlow, type RunningFlow } from '../engineTestKit.js';

interface Request {
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

/** Paths decide the answer: /ok 200, /fail 500, /missing 404, /slow 204 after 60 ms, /slower after 300 ms, /hang never. */
function startServer(): Promise<void> {
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      requests.push({ method: req.method, url: req.url, headers: req.headers, body });
      const finish = (status: number, text = ''): void => {
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

  it('dead-letters a message answered with 500 or 404, with the status in the reason', async (t) => {
    const run = await startFlow(
      broker.url,
      [
        { id: 'in-a', type: 'mqtt-in', config: { connection: 'broker', topic: 'h3/a', decoding: 'json' } },
        { id: 'in-b', type: 'mqtt-in', config: { connection: 'broker', topic: 'h3/b', decoding: 'json' } },
        { id: 'post-500', type: 'http-post', config: { url: `${base}/fail` } },
        { id: 'post-404', type: 'http-post', config: { url: `${base}/missing` } },
      ],
      [
        ['in-a', 'out', 'post-500'],
        ['in-b', 'out', 'post-404'],
      ],
    );
    t.after(() => run.stop());
    await client.publishAsync('h3/a', '{"n":1}', { qos: 1 });
    await deadLetters(run, 1);
    await client.publishAsync('h3/b', '{"n":2}', { qos: 1 });
    const dead = await deadLetters(run, 2);
    assert.deepEqual(
      dead.map((d) => [d.node, d.reason, d.topic, d.payload?.toString()]),
      [
        ['post-500', 'http-post: 500 Internal Server Error: boom', 'h3/a', '{"n":1}'],
        ['post-404', 'http-post: 404 Not Found: no such thing', 'h3/b', '{"n":2}'],
      ],
    );
    assert.equal(run.node('post-500').counters.out, 0);
    assert.equal(run.node('post-500').counters.errors, 1);
  });

  it('dead-letters a message when the URL is unreachable', async (t) => {
    const closedPort = await freePort();
    const run = await postFlow('h4/+', { url: `http://127.0.0.1:${closedPort}/ingest`, timeoutMs: 5000 });
    t.after(() => run.stop());
    await client.publishAsync('h4/a', '{"n":1}', { qos: 1 });
    const [dead] = await deadLetters(run, 1);
    assert.match(dead?.reason ?? '', new RegExp(`^http-post: fetch failed \\(.*ECONNREFUSED.*${closedPort}.*\\)$`));
    assert.equal(dead?.payload?.toString(), '{"n":1}');
  });

  it('dead-letters a message whose request times out', async (t) => {
    const run = await postFlow('h5/+', { url: `${base}/hang`, timeoutMs: 200 });
    t.after(() => run.stop());
    await client.publishAsync('h5/a', '{"n":1}', { qos: 1 });
    const [dead] = await deadLetters(run, 1);
    assert.match(dead?.reason ?? '', /^http-post: .*timeout/i);
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

  it('dead-letters and counts as dropped what exceeds maxQueue', async (t) => {
    const since = requests.length;
    const run = await postFlow('h7/+', { url: `${base}/slower`, maxInFlight: 1, maxQueue: 2 });
    t.after(() => run.stop());
    // One burst: the first is in flight, two wait, the other three find the queue full.
    await publishAll(
      client,
      'h7/a',
      Array.from({ length: 6 }, (_, n) => JSON.stringify({ n })),
    );
    const dead = await deadLetters(run, 3);
    assert.deepEqual(
      dead.map((d) => [d.reason, d.payload?.toString()]),
      [3, 4, 5].map((n) => ['http-post: 2 messages already waiting to be sent', `{"n":${n}}`]),
    );
    await waitFor('3 sent', () => run.node('post').counters.out === 3);
    await settle(100);
    // With one request at a time, the queue keeps the order.
    assert.deepEqual(
      seen('/slower', since).map((r) => r.body),
      ['{"n":0}', '{"n":1}', '{"n":2}'],
    );
    assert.equal(run.node('post').counters.dropped, 3);
  });
});
