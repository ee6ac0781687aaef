import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TOPIC_PREVIEW_CHARS, type TopicStat } from '../../../../shared/protocol/explorerProtocol.js';
import { HISTORY_ENTRY_OVERHEAD, HistoryBudget, TopicTree } from '../../../../main/engine/explorer/topicTree.js';

const T0 = 1_700_000_000_000;

function tree(limits: ConstructorParameters<typeof TopicTree>[1] = {}, budget = new HistoryBudget()): TopicTree {
  return new TopicTree(budget, limits);
}

describe('TopicTree', () => {
  it('gives the same topics as columns as it does as objects (the snapshot the page asks for)', () => {
    const t = tree();
    for (let i = 0; i < 300; i++) {
      t.add(`a/${i % 40}/b`, Buffer.from(`{"v":${i}}`), (i % 3) as 0 | 1 | 2, i % 5 === 0, undefined, T0 + i);
    }
    const objects = t.snapshot(T0 + 400);
    const { seq, columns } = t.snapshotColumns(T0 + 400);
    assert.equal(seq, objects.seq);
    assert.equal(columns.topic.length, 40);
    const fromColumns = columns.topic.map((topic, i) => ({
      topic,
      count: columns.count[i],
      bytes: columns.bytes[i],
      rate: columns.rate[i],
      lastAt: columns.lastAt[i],
      retained: columns.retained[i] === 1,
      qos: columns.qos[i],
      size: columns.size[i],
      preview: columns.preview[i],
    }));
    assert.deepEqual(fromColumns, objects.topics);
  });

  it('counts messages, bytes, QoS, retain, size and preview per topic exactly', () => {
    const t = tree();
    const expected = new Map<string, { count: number; bytes: number }>();
    for (let i = 0; i < 5000; i++) {
      const topic = `plant/${i % 37}/t`;
      const payload = Buffer.from(`{"i":${i}}`);
      t.add(topic, payload, (i % 3) as 0 | 1 | 2, i % 2 === 0, undefined, T0 + i);
      const e = expected.get(topic) ?? { count: 0, bytes: 0 };
      e.count++;
      e.bytes += payload.length;
      expected.set(topic, e);
    }
    const snap = t.snapshot(T0 + 5000);
    assert.equal(snap.seq, 5000);
    assert.equal(t.messages, 5000);
    assert.equal(snap.topics.length, 37);
    for (const s of snap.topics) {
      assert.deepEqual({ count: s.count, bytes: s.bytes }, expected.get(s.topic), s.topic);
    }
    const last = snap.topics.find((s) => s.topic === 'plant/4/t') as TopicStat;
    // Message 4999 went to plant/4/t (4999 % 37 = 4): odd, so not retained; QoS 4999 % 3 = 1.
    assert.equal(last.preview, '{"i":4999}');
    assert.equal(last.size, 10);
    assert.equal(last.qos, 1);
    assert.equal(last.retained, false);
    assert.equal(last.lastAt, T0 + 4999);
  });

  it('shows bytes that are not UTF-8 as replacement characters and cuts the preview', () => {
    const t = tree();
    t.add('bin', Buffer.from([0x41, 0xff, 0xfe, 0x42]), 0, false, undefined, T0);
    t.add('long', Buffer.from('é'.repeat(500)), 0, false, undefined, T0);
    const [bin, long] = ['bin', 'long'].map((x) => t.snapshot().topics.find((s) => s.topic === x) as TopicStat);
    assert.equal(bin?.preview, 'A\uFFFD\uFFFDB');
    assert.equal(long?.preview, 'é'.repeat(TOPIC_PREVIEW_CHARS));
    assert.equal(long?.size, 1000);
  });

  it('empty retained messages clear the retained flag', () => {
    const t = tree();
    t.add('a/b', Buffer.from('1'), 0, true, undefined, T0);
    t.add('a/c', Buffer.from('2'), 0, true, undefined, T0);
    t.add('a/c', Buffer.alloc(0), 0, true, undefined, T0);
    t.add('x', Buffer.from('3'), 0, true, undefined, T0);
    assert.deepEqual(t.retainedUnder('a'), ['a/b']);
    assert.deepEqual(t.retainedUnder('a/b'), ['a/b']);
    assert.deepEqual(t.retainedUnder('a/b/c'), []);
    assert.equal(t.snapshot().topics.find((s) => s.topic === 'a/c')?.retained, false);
  });

  it('keeps a changed set: each changed topic once per delta, chunked with more, then empty', () => {
    const t = tree();
    for (let i = 0; i < 250; i++) t.add(`d/${i % 100}`, Buffer.from('x'), 0, false, undefined, T0);
    assert.equal(t.hasChanges, true);
    const first = t.takeDelta(60, T0);
    assert.equal(first.topics.length, 60);
    assert.equal(first.more, true);
    assert.equal(first.seq, 250);
    const second = t.takeDelta(60, T0);
    assert.equal(second.topics.length, 40);
    assert.equal(second.more, false);
    assert.equal(t.hasChanges, false);
    const seen = new Set([...first.topics, ...second.topics].map((s) => s.topic));
    assert.equal(seen.size, 100);
    // The page's tree from deltas alone adds up to what was sent.
    const sum = [...first.topics, ...second.topics].reduce((n, s) => n + s.count, 0);
    assert.equal(sum, 250);
    t.add('d/7', Buffer.from('y'), 0, false, undefined, T0 + 1);
    const third = t.takeDelta(60, T0 + 1);
    assert.deepEqual(
      third.topics.map((s) => [s.topic, s.count]),
      [['d/7', 4]],
    );
    assert.equal(third.seq, 251);
  });

  it('caps the topics: beyond the cap they are counted in droppedTopics (distinct), never tracked', () => {
    const t = tree({ maxTopics: 10 });
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 25; i++) t.add(`cap/${i}`, Buffer.from('x'), 0, false, undefined, T0);
    }
    assert.equal(t.size, 10);
    assert.equal(t.droppedTopics, 15);
    assert.equal(t.messages, 75);
    assert.equal(t.seq, 30);
    assert.equal(
      t.snapshot().topics.reduce((n, s) => n + s.count, 0),
      30,
    );
  });

  it('bounds each history by messages and bytes; counts stay exact; sinceSeq pages', () => {
    const t = tree({ historyMessages: 5, historyBytes: 1000 });
    for (let i = 0; i < 20; i++) t.add('h', Buffer.from(`m${i}`), 1, false, undefined, T0 + i);
    const all = t.history('h');
    assert.deepEqual(
      all.messages.map((m) => Buffer.from(m.payloadBase64, 'base64').toString()),
      ['m15', 'm16', 'm17', 'm18', 'm19'],
    );
    assert.equal(all.evicted, 15);
    assert.deepEqual(
      t.history('h', all.messages[2]?.seq).messages.map((m) => m.seq),
      [19, 20],
    );
    assert.deepEqual(
      t.history('h', 0, 2).messages.map((m) => m.seq),
      [16, 17],
    );
    // 400-byte payloads: only two fit in 1000 bytes.
    for (let i = 0; i < 4; i++) t.add('big', Buffer.alloc(400, i), 0, false, undefined, T0);
    assert.equal(t.history('big').messages.length, 2);
    // Larger than the whole per-topic budget: counted, previewed, not kept.
    t.add('huge', Buffer.alloc(2000, 65), 0, false, undefined, T0);
    assert.equal(t.history('huge').messages.length, 0);
    assert.equal(t.history('huge').evicted, 1);
    assert.equal(t.snapshot().topics.find((s) => s.topic === 'huge')?.preview, 'A'.repeat(TOPIC_PREVIEW_CHARS));
    assert.equal(t.get('h')?.count, 20);
  });

  it('a global byte budget evicts the oldest history entries of any tree first; counts stay exact', () => {
    const entry = 100 + HISTORY_ENTRY_OVERHEAD;
    const budget = new HistoryBudget(entry * 10);
    const a = tree({}, budget);
    const b = tree({}, budget);
    for (let i = 0; i < 8; i++) a.add(`a/${i}`, Buffer.alloc(100, 1), 0, false, undefined, T0 + i);
    for (let i = 0; i < 8; i++) b.add(`b/${i % 2}`, Buffer.alloc(100, 2), 0, false, undefined, T0 + 10 + i);
    assert.equal(budget.entries, 10);
    assert.ok(budget.bytes <= budget.maxBytes);
    assert.equal(budget.evicted, 6);
    // The six oldest were a/0..a/5.
    for (let i = 0; i < 6; i++) assert.equal(a.history(`a/${i}`).messages.length, 0, `a/${i}`);
    assert.equal(a.history('a/6').messages.length, 1);
    assert.equal(b.history('b/0').messages.length, 4);
    // Counts and previews survive eviction.
    const snapA = a.snapshot();
    assert.equal(
      snapA.topics.reduce((n, s) => n + s.count, 0),
      8,
    );
    assert.equal(snapA.topics.find((s) => s.topic === 'a/0')?.preview, '\u0001'.repeat(100));
    // Clearing a tree gives its share back.
    assert.equal(a.clear(), 8);
    assert.equal(budget.entries, 8);
    assert.equal(a.snapshot().topics.length, 0);
    assert.equal(a.messages, 0);
    a.add('again', Buffer.from('1'), 0, false, undefined, T0);
    assert.equal(a.seq, 9, 'seq keeps increasing after clear');
  });

  it('rates follow an EWMA over a few seconds and decay to 0 through the sweep', () => {
    const t = tree();
    // 20 msg/s for 15 s.
    for (let i = 0; i < 300; i++) t.add('r', Buffer.from('1'), 0, false, undefined, T0 + i * 50);
    const now = T0 + 300 * 50;
    const rate = t.snapshot(now).topics[0]?.rate as number;
    assert.ok(rate > 17 && rate < 23, `rate ${rate}`);
    t.takeDelta(100, now);
    t.sweepRates(now + 2000);
    assert.equal(t.hasChanges, true, 'a decaying rate is a change');
    const decaying = t.takeDelta(100, now + 2000).topics[0]?.rate as number;
    assert.ok(decaying < rate && decaying > 0, `decaying ${decaying}`);
    t.sweepRates(now + 60_000);
    assert.equal(t.takeDelta(100, now + 60_000).topics[0]?.rate, 0);
    t.sweepRates(now + 61_000);
    assert.equal(t.hasChanges, false, 'a topic at rate 0 leaves the sweep');
  });

  it('takes at least 20,000 msg/s on one core (10,000 topics, history on)', () => {
    const t = tree();
    const payloads = Array.from({ length: 64 }, (_, i) =>
      Buffer.from(`{"deviceId":"dev-${i}","temperature":21.${i},"seq":${i}}`),
    );
    const topics = Array.from({ length: 10_000 }, (_, i) => `fleet/dev-${i}/telemetry`);
    const n = 200_000;
    const start = performance.now();
    for (let i = 0; i < n; i++) {
      t.add(topics[i % 10_000] as string, payloads[i % 64] as Buffer, 1, false, undefined, T0 + i);
      if (i % 10_000 === 9_999) t.takeDelta(5000, T0 + i);
    }
    const perSecond = n / ((performance.now() - start) / 1000);
    assert.equal(t.messages, n);
    assert.ok(perSecond >= 20_000, `${Math.round(perSecond)} msg/s`);
  });
});
