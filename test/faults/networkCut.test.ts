import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { reconnectDelay } from '../../main/engine/mqtt/connectionManager.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { tempDir } from '../helpers/paths.js';
import { startSeqPublisher, verifySeqs } from '../helpers/seqPublisher.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcpProxy.js';
import { waitFor } from '../helpers/waitFor.js';
import {
  countRows,
  describeVerdict,
  NO_QUEUE_LIMIT,
  readSeqs,
  seqFlow,
  SEQ_TOPIC,
  sleep,
  startRunner,
  waitForDrain,
  writeFlow,
} from './faultKit.js';

const KEEPALIVE_S = 2;
/**
 * mqtt.js checks the keepalive on an interval of keepalive / 2 and gives up 1.5 × keepalive after
 * the last packet that re-armed it; timer granularity, the event loop and the log write add a few
 * tens of milliseconds, the proxy's cut a few more. 500 ms covers them on a loaded 2-core machine.
 */
const DETECTION_SLACK_MS = 500;

const timeOf = (line: Record<string, unknown>): number => Date.parse(String(line['time']));

describe('fault: the network link to the broker goes dead (black hole, no reset)', () => {
  const dir = tempDir('topicflow-fault-cut-');
  let broker: Mosquitto;
  let proxy: TcpProxy;
  before(async () => {
    broker = await startMosquitto({ extraConfig: NO_QUEUE_LIMIT });
    proxy = await startTcpProxy(broker.port);
  });
  after(async () => {
    await proxy?.close();
    await broker?.stop();
    dir.cleanup();
  });

  it(
    'notices within 1.5 × keepalive, backs off, and after the restore stores what was published meanwhile exactly once',
    { timeout: 60_000 },
    async (t) => {
      const dataDir = join(dir.path, 'data');
      const flowFile = writeFlow(
        dir.path,
        seqFlow({ url: proxy.url, clientId: 'fault-cut-runner', keepalive: KEEPALIVE_S }),
      );
      const runner = startRunner(flowFile, dataDir);
      try {
        await runner.waitForLog('subscribed');
        // The publisher talks to the broker directly: only the runner's link dies.
        const publisher = await startSeqPublisher({
          url: broker.url,
          topic: SEQ_TOPIC,
          clientId: 'fault-cut-publisher',
          window: 20,
          ratePerSecond: 300,
        });
        try {
          await publisher.waitForAcked(300);
          await waitFor('rows flowing', () => countRows(dataDir) >= 200);

          const cutAt = Date.now();
          proxy.cut();
          const ackedAtCut = publisher.acked.size;
          const lost = await runner.waitForLog('mqtt connection lost', {}, 10_000);
          const detectionMs = timeOf(lost) - cutAt;
          const rowsAfterDetection = countRows(dataDir);

          // Each attempt reaches the proxy, which accepts and says nothing: the connect times out
          // (10 s), then the next attempt is scheduled. Two scheduled attempts show the growth.
          const scheduled = await waitFor(
            'two reconnects scheduled after the loss',
            () => {
              const lines = runner
                .logs()
                .filter((l) => l['msg'] === 'mqtt reconnect scheduled' && timeOf(l) >= timeOf(lost));
              return lines.length >= 2 ? lines : undefined;
            },
            25_000,
          );
          const rowsBeforeRestore = countRows(dataDir);
          const ackedDuringCut = publisher.acked.size - ackedAtCut;
          proxy.restore();
          const back = await runner.waitForLog('mqtt connected', { sessionPresent: true }, 15_000);
          assert.ok(timeOf(back) > cutAt);

          await sleep(500); // a little traffic after the restore too
          const result = await publisher.stop();
          await waitForDrain(dataDir, result.acked);
          const exit = await runner.stop('SIGTERM');
          const verdict = verifySeqs(readSeqs(dataDir), result.acked);
          const delays = scheduled.map((l) => ({
            attempt: l['attempt'] as number,
            retryInMs: l['retryInMs'] as number,
          }));
          t.diagnostic(
            `loss detected ${detectionMs} ms after the cut (limit ${1.5 * KEEPALIVE_S * 1000} + ${DETECTION_SLACK_MS} ms); ` +
              `reconnects scheduled while cut: ${JSON.stringify(delays)}; acknowledged to the publisher while cut ${ackedDuringCut}; ` +
              `${describeVerdict(verdict)}; accepted by the proxy ${proxy.accepted}`,
          );

          assert.ok(detectionMs >= 0, `lost before the cut? ${detectionMs} ms`);
          assert.ok(
            detectionMs <= 1.5 * KEEPALIVE_S * 1000 + DETECTION_SLACK_MS,
            `connection loss noticed ${detectionMs} ms after the cut`,
          );
          assert.equal(rowsBeforeRestore, rowsAfterDetection, 'nothing arrives through a dead link');
          assert.ok(ackedDuringCut >= 1000, `only ${ackedDuringCut} messages published while cut`);
          // Growing delays: attempt n (the n-th since the loss) waits within reconnectDelay(n - 1)'s
          // jitter range (today [2^(n-1), 2^n] × 500 ms), and the second longer than the first.
          assert.deepEqual(delays.map((d) => d.attempt).slice(0, 2), [1, 2], 'attempts counted from the loss');
          for (const { attempt, retryInMs } of delays.slice(0, 2)) {
            const [low, high] = [reconnectDelay(attempt - 1, () => 0), reconnectDelay(attempt - 1, () => 1)];
            assert.ok(
              retryInMs >= low && retryInMs <= high,
              `attempt ${attempt}: ${retryInMs} ms not in [${low}, ${high}]`,
            );
          }
          const [first, second] = delays as [(typeof delays)[0], (typeof delays)[0]];
          assert.ok(second.retryInMs > first.retryInMs, `reconnect delays do not grow: ${JSON.stringify(delays)}`);
          assert.deepEqual(verdict.missing, [], 'acknowledged by the broker, never stored (lost)');
          assert.deepEqual(verdict.duplicates, [], 'stored more than once');
          assert.equal(exit.code, 0);
        } finally {
          await publisher.stop(0);
        }
      } finally {
        await runner.stop('SIGKILL');
      }
    },
  );
});
