import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { freePort, startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { tempDir } from '../helpers/paths.js';
import { startSeqPublisher } from '../helpers/seqPublisher.js';
import { waitFor } from '../helpers/waitFor.js';
import { NO_QUEUE_LIMIT, sleep, startRunner, withStore, writeFlow } from './faultKit.js';

const TOPIC = 'fault/http';
const MESSAGES = 60;
/** Every fifth message is an alarm (priority 10), the others telemetry (priority 0). */
const levelOf = (seq: number): string => (seq % 5 === 0 ? 'alarm' : 'info');
/** The endpoint refuses this one with 400: it must become a dead letter, not be retried. */
const BAD_SEQ = 31;

interface Received {
  readonly seq: number;
  readonly level: string;
  readonly status: number;
}

function httpFlow(brokerUrl: string, ingestUrl: string): unknown {
  return {
    format: 'topicflow/flow@1',
    name: 'fault: MQTT to HTTP through the outbox',
    connections: [{ id: 'broker', url: brokerUrl, clientId: 'fault-http-runner', clean: false, sessionExpiry: 3600 }],
    nodes: [
      { id: 'in', type: 'mqtt-in', config: { connection: 'broker', topic: TOPIC, qos: 1, decoding: 'json' } },
      {
        id: 'post',
        type: 'http-post',
        config: {
          url: ingestUrl,
          maxInFlight: 1,
          timeoutMs: 2000,
          // Evaluated against the payload (as transform expressions are), with $topic, $params...
          priorityFrom: 'level = "alarm" ? 10 : 0',
          retryBaseMs: 50,
          retryMaxMs: 200,
        },
      },
    ],
    edges: [{ id: 'e1', from: { node: 'in', port: 'out' }, to: { node: 'post', port: 'in' } }],
  };
}

/** The ingest endpoint: records each request; 400 for the bad message, 200 for the rest. */
function ingestServer(received: Received[]): Server {
  return createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const message = JSON.parse(body) as { seq: number; level: string; bad?: boolean };
      const status = message.bad ? 400 : 200;
      received.push({ seq: message.seq, level: message.level, status });
      response.writeHead(status, { 'content-type': 'text/plain' }).end(status === 400 ? 'bad reading' : 'ok');
    });
  });
}

const outboxDepth = (dataDir: string): number =>
  withStore(
    dataDir,
    (db) => (db.prepare("SELECT count(*) AS n FROM tf_outbox WHERE node = 'post'").get() as { n: number }).n,
  ) ?? 0;

describe('fault: the HTTP endpoint is down, and the runner is killed while messages wait in the outbox', () => {
  const dir = tempDir('topicflow-fault-http-');
  let broker: Mosquitto | undefined;
  let server: Server | undefined;
  after(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => (server?.listening ? server.close(resolve) : resolve(undefined)));
    await broker?.stop();
    dir.cleanup();
  });

  it(
    'delivers everything once the endpoint is up, alarms first; the refused one is a dead letter',
    { timeout: 60_000 },
    async (t) => {
      broker = await startMosquitto({ extraConfig: NO_QUEUE_LIMIT });
      const port = await freePort(); // nothing listens there yet: connections are refused
      const dataDir = join(dir.path, 'data');
      const flowFile = writeFlow(dir.path, httpFlow(broker.url, `http://127.0.0.1:${port}/ingest`));

      let runner = startRunner(flowFile, dataDir);
      try {
        await runner.waitForLog('subscribed');
        const publisher = await startSeqPublisher({
          url: broker.url,
          topic: TOPIC,
          clientId: 'fault-http-publisher',
          count: MESSAGES,
          window: 10,
          fields: (seq) => ({ level: levelOf(seq), ...(seq === BAD_SEQ ? { bad: true } : {}) }),
        });
        await publisher.waitForAcked(MESSAGES);
        const { acked } = await publisher.stop();
        await waitFor(`${MESSAGES} messages in the outbox`, () => outboxDepth(dataDir) === MESSAGES);
        await waitFor('failed attempts recorded', () =>
          withStore(dataDir, (db) =>
            db.prepare("SELECT 1 FROM tf_outbox WHERE attempts > 0 AND last_error LIKE '%http-post%'").get(),
          ),
        );

        runner.child.kill('SIGKILL');
        await runner.exited;
        assert.equal(outboxDepth(dataDir), MESSAGES, 'the outbox survives SIGKILL');

        runner = startRunner(flowFile, dataDir);
        const resumed = await runner.waitForLog('outbox holds messages from before: sending them');
        await sleep(300); // still down: it retries with backoff

        const received: Received[] = [];
        server = ingestServer(received);
        await new Promise<void>((resolve) => (server as Server).listen(port, '127.0.0.1', resolve));
        const good = [...acked].filter((seq) => seq !== BAD_SEQ);
        await waitFor(
          'every message delivered and the outbox empty',
          () =>
            good.every((seq) => received.some((r) => r.seq === seq && r.status === 200)) && outboxDepth(dataDir) === 0,
          20_000,
        );
        const exit = await runner.stop('SIGTERM');

        const deliveries = received.filter((r) => r.status === 200);
        const firsts = deliveries.filter((r, i) => deliveries.findIndex((d) => d.seq === r.seq) === i);
        const duplicates = deliveries.length - firsts.length;
        const deadLetters =
          withStore(
            dataDir,
            (db) =>
              db.prepare("SELECT reason, payload FROM tf_dead_letters WHERE node = 'post'").all() as {
                reason: string;
                payload: Buffer;
              }[],
          ) ?? [];
        t.diagnostic(
          `published ${MESSAGES}, outbox after the kill ${resumed['depth']}, requests ${received.length}, ` +
            `delivered ${firsts.length} distinct (+${duplicates} duplicates), 400 answers ${received.filter((r) => r.status === 400).length}, ` +
            `dead letters ${deadLetters.length}; order of first deliveries: ${firsts.map((r) => (r.level === 'alarm' ? `A${r.seq}` : r.seq)).join(' ')}`,
        );

        assert.equal(resumed['depth'], MESSAGES);
        assert.deepEqual(
          firsts.map((r) => r.seq).sort((a, b) => a - b),
          good.sort((a, b) => a - b),
          'every message delivered',
        );
        // maxInFlight 1: strict priority (alarms, then the rest), each in arrival order.
        const alarms = good.filter((seq) => levelOf(seq) === 'alarm');
        const infos = good.filter((seq) => levelOf(seq) !== 'alarm');
        assert.deepEqual(
          firsts.map((r) => r.seq),
          [...alarms, ...infos],
          'alarms first, then the rest, each in arrival order',
        );
        assert.equal(received.filter((r) => r.seq === BAD_SEQ).length, 1, 'a 400 is not retried');
        assert.equal(deadLetters.length, 1);
        const [dead] = deadLetters as [{ reason: string; payload: Buffer }];
        assert.match(dead.reason, /400/);
        assert.equal((JSON.parse(dead.payload.toString()) as { seq: number }).seq, BAD_SEQ);
        assert.equal(exit.code, 0);
      } finally {
        await runner.stop('SIGKILL');
      }
    },
  );
});
