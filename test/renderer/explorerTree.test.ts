import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TopicColumns, TopicStat } from '../../shared/protocol/explorerProtocol.js';
import {
  applyColumns,
  applyStats,
  childCount,
  childrenOf,
  createTree,
  findNode,
  flattenRows,
  naturalCompare,
  searchTree,
  topicsUnder,
  treeFromSnapshot,
  type TopicNode,
  type TopicTree,
} from '../../renderer/explorer/model/topicTree.js';

function stat(topic: string, count: number, extra: Partial<TopicStat> = {}): TopicStat {
  return {
    topic,
    count,
    bytes: count * 10,
    rate: count / 10,
    lastAt: 1000 + count,
    retained: false,
    qos: 0,
    size: 10,
    preview: `p${count}`,
    ...extra,
  };
}

function node(tree: TopicTree, path: string): TopicNode {
  const found = findNode(tree, path);
  assert.ok(found, `no node ${path}`);
  return found;
}

/** Sums recomputed from scratch, to check the incremental ones against. */
function recount(n: TopicNode): { count: number; bytes: number; topics: number; retained: number } {
  const sum = {
    count: n.stat?.count ?? 0,
    bytes: n.stat?.bytes ?? 0,
    topics: n.stat ? 1 : 0,
    retained: n.stat?.retained ? 1 : 0,
  };
  for (const child of childrenOf(n)) {
    const c = recount(child);
    sum.count += c.count;
    sum.bytes += c.bytes;
    sum.topics += c.topics;
    sum.retained += c.retained;
  }
  return sum;
}

describe('explorer topic tree: folders sum their topics', () => {
  it('builds the same tree from a columnar snapshot as from objects, slice by slice', () => {
    const stats = Array.from({ length: 50 }, (_, i) =>
      stat(`site/${i % 4}/dev${i}`, i + 1, { retained: i % 3 === 0, qos: (i % 3) as 0 | 1 | 2 }),
    );
    const columns: TopicColumns = {
      topic: stats.map((s) => s.topic),
      count: stats.map((s) => s.count),
      bytes: stats.map((s) => s.bytes),
      rate: stats.map((s) => s.rate),
      lastAt: stats.map((s) => s.lastAt),
      retained: stats.map((s) => (s.retained ? 1 : 0)),
      qos: stats.map((s) => s.qos),
      size: stats.map((s) => s.size),
      preview: stats.map((s) => s.preview),
    };
    const fromColumns = createTree();
    applyColumns(fromColumns, columns, 0, 20);
    applyColumns(fromColumns, columns, 20, 50);
    const fromObjects = treeFromSnapshot(stats);
    assert.equal(fromColumns.root.count, fromObjects.root.count);
    assert.equal(fromColumns.root.retained, fromObjects.root.retained);
    assert.equal(fromColumns.topicNodes.length, 50);
    for (const s of stats) assert.deepEqual(findNode(fromColumns, s.topic)?.stat, s, s.topic);
  });

  it('builds folders from topic levels, with summed counts, bytes, topics and retained', () => {
    const tree = treeFromSnapshot([
      stat('home/kitchen/temp', 3, { retained: true }),
      stat('home/kitchen/hum', 2),
      stat('home/hall/temp', 5),
      stat('plant/line1', 7),
    ]);
    assert.equal(tree.root.count, 17);
    assert.equal(tree.root.topics, 4);
    assert.equal(node(tree, 'home').count, 10);
    assert.equal(node(tree, 'home').topics, 3);
    assert.equal(node(tree, 'home').retained, 1);
    assert.equal(node(tree, 'home/kitchen').count, 5);
    assert.equal(node(tree, 'home/kitchen').bytes, 50);
    assert.equal(node(tree, 'home/kitchen').lastAt, 1003);
    assert.equal(node(tree, 'home').stat, undefined);
    assert.equal(node(tree, 'home/kitchen/temp').depth, 2);
  });

  it('applies deltas incrementally: the sums match a recount, structure bumps only on new nodes', () => {
    const tree = treeFromSnapshot([stat('a/b/c', 1), stat('a/b/d', 1), stat('a/e', 1)]);
    const structure = tree.structure;
    applyStats(tree, [stat('a/b/c', 5, { retained: true }), stat('a/e', 2)]);
    assert.equal(tree.structure, structure, 'updating known topics adds no node');
    applyStats(tree, [stat('a/b/c', 6, { retained: false }), stat('x/y', 4)]);
    assert.ok(tree.structure > structure);
    assert.deepEqual(
      { count: tree.root.count, bytes: tree.root.bytes, topics: tree.root.topics, retained: tree.root.retained },
      recount(tree.root),
    );
    assert.equal(node(tree, 'a/b').count, 7);
    assert.equal(node(tree, 'a').retained, 0);
    assert.ok(Math.abs(node(tree, 'a').rate - 0.9) < 1e-9, `rate ${node(tree, 'a').rate}`);
  });

  it('keeps a topic that is also a folder (a and a/b), and empty levels (/x, a//b)', () => {
    const tree = treeFromSnapshot([stat('a', 1), stat('a/b', 2), stat('/x', 3), stat('a//b', 4)]);
    assert.equal(node(tree, 'a').stat?.count, 1);
    assert.equal(node(tree, 'a').count, 7);
    assert.equal(node(tree, '').name, '');
    assert.equal(node(tree, '/x').count, 3);
    assert.equal(node(tree, 'a/').count, 4);
    assert.equal(topicsUnder(node(tree, 'a')).length, 3);
    // One child is kept without a Map; the second turns it into one.
    assert.equal(childCount(node(tree, 'a/')), 1);
    assert.equal(childCount(node(tree, 'a')), 2);
    assert.equal(childCount(node(tree, 'a/b')), 0);
  });

  it('flattens only expanded folders, children sorted by name', () => {
    const tree = treeFromSnapshot([stat('b/2', 1), stat('b/1', 1), stat('a/x', 1), stat('c', 1)]);
    const names = (rows: ReturnType<typeof flattenRows>) => rows.map((r) => r.node.path);
    assert.deepEqual(names(flattenRows(tree, new Set())), ['a', 'b', 'c']);
    assert.deepEqual(names(flattenRows(tree, new Set(['b']))), ['a', 'b', 'b/1', 'b/2', 'c']);
    const rows = flattenRows(tree, new Set(['b']));
    assert.equal(rows[1]?.expanded, true);
    assert.equal(rows[0]?.expanded, false);
    assert.equal(rows[4]?.hasChildren, false);
    // A child added later lands in order (the sorted cache is dropped).
    applyStats(tree, [stat('b/0', 1)]);
    assert.deepEqual(names(flattenRows(tree, new Set(['b']))), ['a', 'b', 'b/0', 'b/1', 'b/2', 'c']);
  });

  it('search keeps matches and their ancestors, expanded unless collapsed during the search', () => {
    const tree = treeFromSnapshot([
      stat('site/a/Temp', 1),
      stat('site/b/hum', 1),
      stat('site/c/temp', 1),
      stat('other/x', 1),
    ]);
    const result = searchTree(tree, 'TEMP');
    assert.equal(result.matches, 2);
    const paths = flattenRows(tree, new Set(), { result, collapsed: new Set() }).map((r) => r.node.path);
    assert.deepEqual(paths, ['site', 'site/a', 'site/a/Temp', 'site/c', 'site/c/temp']);
    const collapsed = flattenRows(tree, new Set(), { result, collapsed: new Set(['site/a']) }).map((r) => r.node.path);
    assert.deepEqual(collapsed, ['site', 'site/a', 'site/c', 'site/c/temp']);
    assert.equal(searchTree(tree, 'nothing').visible.size, 0);
  });

  it('handles 100,000 topics: snapshot, deltas, search and flatten well under a second', () => {
    const stats: TopicStat[] = [];
    for (let i = 0; i < 100_000; i++) stats.push(stat(`fleet/area${i % 20}/dev${i}/temp`, 1 + (i % 5)));
    const t0 = performance.now();
    const tree = treeFromSnapshot(stats);
    const built = performance.now() - t0;
    assert.equal(tree.root.topics, 100_000);
    assert.equal(
      tree.root.count,
      stats.reduce((s, x) => s + x.count, 0),
    );
    const t1 = performance.now();
    const delta = stats.slice(0, 5000).map((s) => ({ ...s, count: s.count + 1 }));
    applyStats(tree, delta);
    const applied = performance.now() - t1;
    assert.equal(node(tree, 'fleet').count, stats.reduce((s, x) => s + x.count, 0) + 5000);
    const t2 = performance.now();
    const result = searchTree(tree, 'dev9999');
    const rows = flattenRows(tree, new Set(), { result, collapsed: new Set() });
    const searched = performance.now() - t2;
    // dev9999, dev99990..dev99999: 11 topics, each under fleet/areaN/devN.
    assert.equal(result.matches, 11);
    assert.ok(rows.some((r) => r.node.path === 'fleet/area19/dev9999/temp'));
    const t3 = performance.now();
    const all = flattenRows(tree, new Set(['fleet', 'fleet/area0']));
    const flattened = performance.now() - t3;
    assert.equal(all.length, 1 + 20 + 5000);
    assert.ok(built < 1000, `snapshot of 100k topics took ${built} ms`);
    assert.ok(applied < 100, `a 5,000-topic delta took ${applied} ms`);
    assert.ok(searched < 300, `search took ${searched} ms`);
    assert.ok(flattened < 300, `flatten took ${flattened} ms`);
  });

  it('sorts siblings in natural order (dev2 before dev10)', () => {
    const names = ['dev10', 'dev2', 'dev1', 'b', 'dev02', 'a9', 'a10', 'dev', ''];
    assert.deepEqual([...names].sort(naturalCompare), ['', 'a9', 'a10', 'b', 'dev', 'dev1', 'dev2', 'dev02', 'dev10']);
    const tree = treeFromSnapshot([stat('x/10', 1), stat('x/9', 1), stat('x/100', 1)]);
    assert.deepEqual(
      flattenRows(tree, new Set(['x'])).map((r) => r.node.name),
      ['x', '9', '10', '100'],
    );
  });

  it('an empty tree has no rows', () => {
    assert.deepEqual(flattenRows(createTree(), new Set()), []);
  });
});
