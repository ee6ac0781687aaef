import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { tempDir } from '../helpers/paths.js';
import { startSeqPublisher, verifySeqs } from '../helpers/seqPublisher.js';
import { waitFor } from '../helpers/waitFor.js';
import {
  describeVerdict,
  NO_QUEUE_LIMIT,
  readSeqs,
  seqFlow,
  SEQ_TABLE,
  SEQ_TOPIC,
  sleep,
  startRunner,
  waitForDrain,
  writeFlow,
} from './faultKit.js';

/**
 * Two sinks on the same input. A broker restart breaks the publisher's connection too, and QoS 1
 * from the publisher to the broker is at least once: a PUBLISH the old broker took (and saved)
 * whose PUBACK never reached the publisher is sent again, and the new broker takes it as a new
 * message, a second delivery with its own packet id. `auto` dedupe recognises redeliveries of
 * one delivery (same packet id) and so cannot tell; an id in the payload can. So:
 * - `seqs` (dedupe `payload.seq`, the message's own id): exactly once, end to end;
 * - `seqs_auto` (dedupe `auto`): no loss, and a seq stored twice only if the publisher had it in
 *   flight when its connection dropped, i.e. the engine added no duplicate of its own.
 */
const AUTO_TABLE = 'seqs_auto';

describe('fault: the broker restarted mid-stream (persistence on)', () => {
  const dir = tempDir('topicflow-fault-broker-');
  const brokers: Mosquitto[] = [];
  after(async () => {
    for (const broker of brokers) await broker.stop();
    dir.cleanup();
  });

  it('loses nothing and stores nothing twice while publisher and runner reconnect', { timeout: 60_000 }, async (t) => {
    const persistenceDir = join(dir.path, 'mosquitto');
    const dataDir = join(dir.path, 'data');
    mkdirSync(persistenceDir);
    const first = await startMosquitto({ extraConfig: NO_QUEUE_LIMIT, persistenceDir });
    brokers.push(first);
    const flowFile = writeFlow(
      dir.path,
      seqFlow({
        url: first.url,
        clientId: 'fault-restart-runner',
        sinks: [{ table: SEQ_TABLE, dedupe: 'payload.seq' }, { table: AUTO_TABLE }],
      }),
    );
    const runner = startRunner(flowFile, dataDir);
    try {
      await runner.waitForLog('subscribed');
      const publisher = await startSeqPublisher({
        url: first.url,
        topic: SEQ_TOPIC,
        clientId: 'fault-restart-publisher',
        window: 20,
        ratePerSecond: 1000,
      });
      try {
        await publisher.waitForAcked(1000);
        const ackedBefore = publisher.acked.size;
        await first.stop(); // SIGTERM: Mosquitto saves its sessions and queues on the way out
        await runner.waitForLog('mqtt connection lost');
        await sleep(300);
        const second = await startMosquitto({ extraConfig: NO_QUEUE_LIMIT, persistenceDir, port: first.port });
        brokers.push(second);
        const reconnected = await waitFor(
          'the runner reconnected',
          () => runner.logs().filter((l) => l['msg'] === 'mqtt connected')[1],
        );
        await publisher.waitForAcked(ackedBefore + 1500);
        const result = await publisher.stop();
        await waitForDrain(dataDir, result.acked);
        const exit = await runner.stop('SIGTERM');
        const verdict = verifySeqs(readSeqs(dataDir), result.acked);
        const auto = verifySeqs(readSeqs(dataDir, AUTO_TABLE), result.acked);
        t.diagnostic(
          `published ${result.published}, acked before the restart ${ackedBefore}, publisher connects ${result.connects}, ` +
            `in flight at its disconnect ${[...result.inFlightAtDisconnect].join(' ')}; ` +
            `dedupe payload.seq: ${describeVerdict(verdict)}; dedupe auto: ${describeVerdict(auto)}`,
        );
        assert.equal(reconnected['sessionPresent'], true, 'the restarted broker resumed the runner session');
        assert.ok(result.connects >= 2, 'the publisher reconnected');
        assert.deepEqual(verdict.missing, [], 'acknowledged by the broker, never stored (lost)');
        assert.deepEqual(verdict.duplicates, [], 'stored more than once');
        assert.deepEqual(auto.missing, [], 'acknowledged by the broker, never stored (lost; dedupe auto)');
        assert.deepEqual(
          auto.duplicates.filter((d) => d.count > 2 || !result.inFlightAtDisconnect.has(d.seq)),
          [],
          'stored twice though the publisher sent it once (dedupe auto)',
        );
        assert.equal(exit.code, 0);
      } finally {
        await publisher.stop(0);
      }
    } finally {
      await runner.stop('SIGKILL');
    }
  });
});
