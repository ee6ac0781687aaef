import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  copySelection,
  parseClipboard,
  pastePayload,
  serializeClipboard,
  CLIPBOARD_FORMAT,
} from '../../renderer/graph/clipboard.js';
import type { CanvasEdge, CanvasNode } from '../../renderer/graph/flowGraph.js';

function node(id: string, type: string, x: number, y: number, config: Record<string, unknown> = {}): CanvasNode {
  return { id, type: 'flowNode', position: { x, y }, data: { type, config } };
}
function edge(id: string, source: string, target: string): CanvasEdge {
  return { id, source, sourceHandle: 'out', target, targetHandle: 'in' };
}

const nodes = [
  node('mqtt-in-1', 'mqtt-in', 0, 0, { topic: 'a/#' }),
  { ...node('transform-1', 'transform', 200, 0), data: { type: 'transform', name: 'Scale', config: { expr: 'x' } } },
  node('debug-1', 'debug', 400, 0),
];
const edges = [edge('e-1', 'mqtt-in-1', 'transform-1'), edge('e-2', 'transform-1', 'debug-1')];

describe('renderer clipboard: copy', () => {
  it('copies the selected nodes and only the edges between them, as JSON that round-trips', () => {
    const payload = copySelection(nodes, edges, ['mqtt-in-1', 'transform-1']);
    assert.ok(payload);
    assert.equal(payload.format, CLIPBOARD_FORMAT);
    assert.deepEqual(
      payload.nodes.map((n) => [n.id, n.type, n.name, n.position]),
      [
        ['mqtt-in-1', 'mqtt-in', undefined, { x: 0, y: 0 }],
        ['transform-1', 'transform', 'Scale', { x: 200, y: 0 }],
      ],
    );
    assert.deepEqual(payload.edges, [
      { source: 'mqtt-in-1', sourceHandle: 'out', target: 'transform-1', targetHandle: 'in' },
    ]);
    assert.deepEqual(parseClipboard(serializeClipboard(payload)), payload);
  });

  it('copies configs deeply (editing the copy leaves the canvas alone)', () => {
    const payload = copySelection(nodes, edges, ['mqtt-in-1']);
    assert.ok(payload);
    (payload.nodes[0]?.config as Record<string, unknown>)['topic'] = 'changed';
    assert.equal(nodes[0]?.data.config['topic'], 'a/#');
  });

  it('copies nothing without a selection', () => {
    assert.equal(copySelection(nodes, edges, []), undefined);
    assert.equal(copySelection(nodes, edges, ['missing']), undefined);
  });

  it('refuses text that is not TopicFlow clipboard JSON', () => {
    assert.equal(parseClipboard('hello'), undefined);
    assert.equal(parseClipboard('{"format":"other","nodes":[],"edges":[]}'), undefined);
    assert.equal(parseClipboard(JSON.stringify({ format: CLIPBOARD_FORMAT, nodes: [], edges: [] })), undefined);
    assert.equal(
      parseClipboard(JSON.stringify({ format: CLIPBOARD_FORMAT, nodes: [{ id: 'a', type: 'debug' }], edges: [] })),
      undefined,
    );
  });
});

describe('renderer clipboard: paste', () => {
  it('gives fresh unique ids, offsets positions, remaps edges and selects the pasted nodes', () => {
    const payload = copySelection(nodes, edges, ['mqtt-in-1', 'transform-1']);
    assert.ok(payload);
    const added = pastePayload(payload, { nodes, edges }, { x: 40, y: 40 });
    assert.deepEqual(
      added.nodes.map((n) => [n.id, n.data.type, n.data.name, n.position, n.selected]),
      [
        ['mqtt-in-2', 'mqtt-in', undefined, { x: 40, y: 40 }, true],
        ['transform-2', 'transform', 'Scale', { x: 240, y: 40 }, true],
      ],
    );
    assert.deepEqual(added.nodes[0]?.data.config, { topic: 'a/#' });
    assert.deepEqual(added.edges, [
      { id: 'e-3', source: 'mqtt-in-2', sourceHandle: 'out', target: 'transform-2', targetHandle: 'in' },
    ]);
  });

  it('pasting twice gives distinct ids again, and several of one type count up', () => {
    const payload = copySelection(nodes, edges, ['debug-1']);
    assert.ok(payload);
    const first = pastePayload(payload, { nodes, edges }, { x: 40, y: 40 });
    const second = pastePayload(payload, { nodes: [...nodes, ...first.nodes], edges }, { x: 80, y: 80 });
    assert.equal(first.nodes[0]?.id, 'debug-2');
    assert.equal(second.nodes[0]?.id, 'debug-3');
    assert.deepEqual(second.nodes[0]?.position, { x: 480, y: 80 });

    const two = copySelection(
      [node('debug-1', 'debug', 0, 0), node('debug-2', 'debug', 0, 0)],
      [],
      ['debug-1', 'debug-2'],
    );
    assert.ok(two);
    const pasted = pastePayload(two, { nodes: [node('debug-1', 'debug', 0, 0)], edges: [] }, { x: 0, y: 0 });
    assert.deepEqual(
      pasted.nodes.map((n) => n.id),
      ['debug-2', 'debug-3'],
    );
  });

  it('pastes into an empty canvas (another flow) with the copied ids free again', () => {
    const payload = copySelection(nodes, edges, ['transform-1', 'debug-1']);
    assert.ok(payload);
    const added = pastePayload(payload, { nodes: [], edges: [] }, { x: 0, y: 0 });
    assert.deepEqual(
      added.nodes.map((n) => n.id),
      ['transform-1', 'debug-1'],
    );
    assert.deepEqual(
      added.edges.map((e) => [e.id, e.source, e.target]),
      [['e-1', 'transform-1', 'debug-1']],
    );
  });
});
