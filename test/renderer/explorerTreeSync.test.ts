import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ExplorerConnectionInfo, TopicStat } from '../../shared/protocol/explorerProtocol.js';
import { treeFromSnapshot } from '../../renderer/explorer/model/topicTree.js';
import {
  createSync,
  finishSnapshot,
  needsSnapshot,
  receiveDelta,
  startSnapshot,
  MAX_BUFFERED_DELTAS,
} from '../../renderer/explorer/model/treeSync.js';

function stat(topic: string, count: number): TopicStat {
  return { topic, count, bytes: count, rate: 0, lastAt: count, retained: false, qos: 0, size: 1, preview: '' };
}

const delta = (seq: number, ...topics: TopicStat[]) => ({ connection: 'c', seq, topics, more: false });

function info(messages: number, droppedTopics = 0): ExplorerConnectionInfo {
  return {
    config: { connection: { id: 'c', url: 'mqtt://h' }, filters: ['#'], enabled: true },
    state: 'connected',
    url: 'mqtt://h',
    lastError: undefined,
    messages,
    topics: 0,
    rate: 0,
    droppedTopics,
  };
}

describe('explorer tree sync: snapshot, then deltas by seq', () => {
  it('buffers deltas during a snapshot, then applies those not older than it', () => {
    const sync = createSync();
    startSnapshot(sync);
    // Taken before the snapshot (seq 5 < 10): skipped. Taken after: applied, absolute values win.
    assert.equal(receiveDelta(sync, delta(5, stat('a', 5))), 'buffered');
    assert.equal(receiveDelta(sync, delta(12, stat('a', 12), stat('b', 2))), 'buffered');
    finishSnapshot(sync, 10, treeFromSnapshot([stat('a', 10)]));
    assert.equal(sync.loading, false);
    assert.equal(sync.seq, 12);
    assert.equal(sync.tree.root.count, 14);
    assert.deepEqual(sync.buffered, []);
  });

  it('applies deltas sharing a seq (a split delta) and skips older ones; re-applying is harmless', () => {
    const sync = createSync();
    startSnapshot(sync);
    finishSnapshot(sync, 3, treeFromSnapshot([stat('a', 3)]));
    assert.equal(receiveDelta(sync, delta(7, stat('a', 4))), 'applied');
    assert.equal(receiveDelta(sync, delta(7, stat('b', 3))), 'applied');
    assert.equal(receiveDelta(sync, delta(7, stat('b', 3))), 'applied');
    assert.equal(receiveDelta(sync, delta(6, stat('a', 1))), 'stale');
    assert.equal(sync.tree.root.count, 7);
  });

  it('asks for a new snapshot when the buffer overflows or the counts disagree', () => {
    const sync = createSync();
    assert.equal(needsSnapshot(sync, info(0), undefined), false, 'no snapshot yet: nothing to check');
    startSnapshot(sync);
    for (let i = 0; i < MAX_BUFFERED_DELTAS; i++) receiveDelta(sync, delta(i));
    assert.equal(receiveDelta(sync, delta(999)), 'lost');
    assert.equal(needsSnapshot(sync, info(0), undefined), false, 'not while loading');
    finishSnapshot(sync, 0, treeFromSnapshot([stat('a', 10)]));
    assert.equal(needsSnapshot(sync, info(10), info(10)), true, 'deltas were lost while loading');
    startSnapshot(sync);
    finishSnapshot(sync, 20, treeFromSnapshot([stat('a', 10)]));
    assert.equal(needsSnapshot(sync, info(15), info(10)), false, 'in step: newer messages still on their way');
    assert.equal(needsSnapshot(sync, info(20), info(12)), true, 'behind what the engine counted a second ago');
    assert.equal(needsSnapshot(sync, info(20, 3), info(12, 3)), false, 'dropped topics count messages never sent');
    assert.equal(needsSnapshot(sync, info(4), info(10)), true, 'cleared elsewhere: the engine counts fewer');
  });
});
