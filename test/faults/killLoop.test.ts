import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { tempDir } from '../helpers/paths.js';
import { describeVerdict, faultSeed, NO_QUEUE_LIMIT, runKillLoop, seededRandom } from './faultKit.js';

const KILLS = 20;

describe('fault: the runner killed with SIGKILL at random moments', () => {
  const dir = tempDir('topicflow-fault-kill-');
  let broker: Mosquitto;
  before(async () => {
    broker = await startMosquitto({ extraConfig: NO_QUEUE_LIMIT });
  });
  after(async () => {
    await broker?.stop();
    dir.cleanup();
  });

  it(
    `stores every message the broker acknowledged exactly once across ${KILLS} kills`,
    { timeout: 75_000 },
    async (t) => {
      const seed = faultSeed();
      const result = await runKillLoop({
        brokerUrl: broker.url,
        dir: dir.path,
        kills: KILLS,
        random: seededRandom(seed),
        maxDelayMs: 600,
        ratePerSecond: 1500,
      });
      t.diagnostic(
        `seed ${seed} (FAULT_SEED): ${result.kills} kills in ${result.seconds.toFixed(1)} s, published ${result.published}, ` +
          `${describeVerdict(result.verdict)}, redeliveries skipped by the final run ${result.redeliveriesSkipped}`,
      );
      assert.equal(result.kills, KILLS);
      // Enough traffic that most kills land while messages are in flight.
      assert.ok(result.acked > KILLS * 200, `only ${result.acked} messages acknowledged`);
      assert.deepEqual(result.verdict.missing, [], 'acknowledged by the broker, never stored (lost)');
      assert.deepEqual(result.verdict.duplicates, [], 'stored more than once');
      assert.equal(result.finalExitCode, 0, 'the final run drains and exits 0 on SIGTERM');
    },
  );
});
