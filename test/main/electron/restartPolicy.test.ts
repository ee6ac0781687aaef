import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RestartPolicy } from '../../../main/electron/restartPolicy.js';

describe('engine restart policy (main/electron/restartPolicy.ts)', () => {
  it('restarts at once, then with a doubling delay, and gives up past 5 restarts a minute', () => {
    let now = 0;
    const policy = new RestartPolicy({ now: () => now });
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      const decision = policy.onDidExit();
      assert.ok(decision.restart, `restart ${i + 1}`);
      delays.push(decision.delayMs);
      now += 1000;
    }
    assert.deepEqual(delays, [0, 250, 500, 1000, 2000]);
    const sixth = policy.onDidExit();
    assert.equal(sixth.restart, false);
    assert.match(!sixth.restart ? sixth.reason : '', /6 times within 60 s/);
  });

  it('forgets crashes older than the window, and caps the delay', () => {
    let now = 0;
    const policy = new RestartPolicy({ now: () => now, maxRestarts: 20, maxDelayMs: 3000 });
    for (let i = 0; i < 10; i++) policy.onDidExit();
    const capped = policy.onDidExit();
    assert.ok(capped.restart && capped.delayMs === 3000);
    now += 60_001;
    const fresh = policy.onDidExit();
    assert.ok(fresh.restart && fresh.delayMs === 0 && fresh.attempt === 1);
  });

  it('starts over after reset() (the user chose Try again)', () => {
    const policy = new RestartPolicy({ now: () => 0, maxRestarts: 1 });
    assert.ok(policy.onDidExit().restart);
    assert.equal(policy.onDidExit().restart, false);
    policy.reset();
    assert.ok(policy.onDidExit().restart);
  });
});
