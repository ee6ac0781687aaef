import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CanvasNode, FlowMeta } from '../../renderer/graph/flowGraph.js';
import {
  emptyHistory,
  record,
  redo,
  sameDocument,
  takeSnapshot,
  undo,
  type History,
} from '../../renderer/graph/history.js';

const meta: FlowMeta = { name: 'Flow', connections: [] };

function node(id: string, x = 0, selected = false): CanvasNode {
  return { id, type: 'flowNode', position: { x, y: 0 }, data: { type: 'debug', config: {} }, selected };
}

describe('renderer history: undo/redo stacks', () => {
  it('undoes and redoes in order, keeping the current state for the other direction', () => {
    let history: History<string> = emptyHistory();
    history = record(history, 'a'); // a → b
    history = record(history, 'b'); // b → c
    const back = undo(history, 'c');
    assert.ok(back);
    assert.equal(back.snapshot, 'b');
    assert.deepEqual(back.history, { past: ['a'], future: ['c'] });
    const back2 = undo(back.history, 'b');
    assert.ok(back2);
    assert.equal(back2.snapshot, 'a');
    assert.equal(undo(back2.history, 'a'), undefined);
    const forward = redo(back2.history, 'a');
    assert.ok(forward);
    assert.equal(forward.snapshot, 'b');
    assert.deepEqual(forward.history, { past: ['a'], future: ['c'] });
  });

  it('clears redo on a new change', () => {
    const history = record(record(emptyHistory<string>(), 'a'), 'b');
    const back = undo(history, 'c');
    assert.ok(back);
    const changed = record(back.history, 'b');
    assert.deepEqual(changed, { past: ['a', 'b'], future: [] });
    assert.equal(redo(changed, 'd'), undefined);
  });

  it('is bounded: the oldest snapshots are dropped past the limit', () => {
    let history = emptyHistory<number>();
    for (let i = 0; i < 150; i++) history = record(history, i);
    assert.equal(history.past.length, 100);
    assert.equal(history.past[0], 50);
    assert.equal(history.past.at(-1), 149);
    let small = emptyHistory<number>();
    for (let i = 0; i < 5; i++) small = record(small, i, 3);
    assert.deepEqual(small.past, [2, 3, 4]);
  });

  it('does nothing on an empty history', () => {
    assert.equal(undo(emptyHistory<string>(), 'x'), undefined);
    assert.equal(redo(emptyHistory<string>(), 'x'), undefined);
  });
});

describe('renderer history: snapshots', () => {
  it('leaves selection out of snapshots and keeps the revision', () => {
    const snapshot = takeSnapshot(7, {
      meta,
      nodes: [node('a', 0, true)],
      edges: [{ id: 'e-1', source: 'a', sourceHandle: 'out', target: 'b', targetHandle: 'in', selected: true }],
    });
    assert.equal(snapshot.revision, 7);
    assert.equal('selected' in (snapshot.nodes[0] as object), false);
    assert.equal('selected' in (snapshot.edges[0] as object), false);
  });

  it('compares documents: selection and sub-pixel moves are no change, a move or a rename is', () => {
    const graph = { meta, nodes: [node('a', 10)], edges: [] };
    assert.ok(sameDocument(graph, { ...graph, nodes: [node('a', 10, true)] }));
    assert.ok(sameDocument(graph, { ...graph, nodes: [node('a', 10.2)] }));
    assert.ok(!sameDocument(graph, { ...graph, nodes: [node('a', 50)] }));
    assert.ok(!sameDocument(graph, { ...graph, meta: { ...meta, name: 'Other' } }));
  });
});
