import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FlowDocument } from '../../shared/flow/flowDocument.js';
import {
  connectionProblem,
  documentToGraph,
  graphToDocument,
  initialConfig,
  problemsByNode,
  uniqueId,
  wouldCreateCycle,
  type CanvasEdge,
  type CanvasNode,
  type PortsOf,
} from '../../renderer/graph/flowGraph.js';

const document: FlowDocument = {
  format: 'topicflow/flow@1',
  name: 'Pico',
  description: 'readings',
  connections: [{ id: 'broker', url: 'mqtt://127.0.0.1:1883' }],
  nodes: [
    { id: 'in', type: 'mqtt-in', name: 'pico/#', config: { connection: 'broker', topic: 'pico/#' } },
    { id: 'sink', type: 'sqlite-sink', config: { table: 'readings' } },
  ],
  edges: [{ id: 'e1', from: { node: 'in', port: 'out' }, to: { node: 'sink', port: 'in' } }],
  layout: { nodes: { in: { x: 10, y: 20 }, sink: { x: 300, y: 20 } } },
};

const PORTS: Record<string, PortsOf> = {
  'mqtt-in': { inputs: [], outputs: [{ name: 'out' }] },
  transform: { inputs: [{ name: 'in' }], outputs: [{ name: 'out' }] },
  validate: { inputs: [{ name: 'in' }], outputs: [{ name: 'valid' }, { name: 'invalid' }] },
  'sqlite-sink': { inputs: [{ name: 'in' }], outputs: [] },
};
const portsOf = (type: string) => PORTS[type];

function node(id: string, type: string): CanvasNode {
  return { id, type: 'flowNode', position: { x: 0, y: 0 }, data: { type, config: {} } };
}
function edge(source: string, target: string, sourceHandle = 'out', targetHandle = 'in'): CanvasEdge {
  return { id: `${source}-${target}`, source, sourceHandle, target, targetHandle };
}

describe('renderer flow graph: document ↔ canvas', () => {
  it('maps a document onto nodes and edges and back without loss', () => {
    const graph = documentToGraph(document);
    assert.deepEqual(
      graph.nodes.map((n) => [n.id, n.data.type, n.data.name, n.position]),
      [
        ['in', 'mqtt-in', 'pico/#', { x: 10, y: 20 }],
        ['sink', 'sqlite-sink', undefined, { x: 300, y: 20 }],
      ],
    );
    assert.deepEqual(graph.edges, [
      { id: 'e1', source: 'in', sourceHandle: 'out', target: 'sink', targetHandle: 'in' },
    ]);
    assert.deepEqual(graphToDocument(graph), document);
  });

  it('keeps positions in layout only: moving a node changes nothing but layout', () => {
    const graph = documentToGraph(document);
    const moved = { ...graph, nodes: graph.nodes.map((n) => ({ ...n, position: { x: n.position.x + 55.4, y: 7 } })) };
    const after = graphToDocument(moved);
    assert.deepEqual(after.nodes, document.nodes);
    assert.deepEqual(after.edges, document.edges);
    assert.deepEqual(after.layout?.nodes?.['in'], { x: 65, y: 7 });
  });

  it('places nodes without a position on a grid, and copies configs (no shared references)', () => {
    const { layout: _layout, ...bare } = document;
    const graph = documentToGraph(bare);
    assert.notDeepEqual(graph.nodes[0]?.position, graph.nodes[1]?.position);
    (graph.nodes[0]?.data.config as Record<string, unknown>)['topic'] = 'changed';
    assert.equal(document.nodes[0]?.config?.['topic'], 'pico/#');
  });

  it('ties problems to nodes by their JSON pointer', () => {
    const problems = problemsByNode(document, [
      { pointer: '/nodes/1/config/table', message: 'bad', severity: 'error' },
      { pointer: '/connections/0/url', message: 'bad', severity: 'error' },
      { pointer: '/nodes/7', message: 'out of range', severity: 'warning' },
    ]);
    assert.deepEqual(
      problems.map((p) => p.nodeId),
      ['sink', undefined, undefined],
    );
  });

  it('makes unique ids that match the flow format', () => {
    assert.equal(uniqueId('mqtt-in', []), 'mqtt-in-1');
    assert.equal(uniqueId('mqtt-in', ['mqtt-in-1', 'mqtt-in-2']), 'mqtt-in-3');
    assert.match(uniqueId('--weird type!', []), /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/);
  });

  it('starts a node from the example, on the flow’s first connection', () => {
    const example = { connection: 'local', topic: 'a/#' };
    const config = initialConfig(example, 'always', [{ id: 'broker' }]);
    assert.deepEqual(config, { connection: 'broker', topic: 'a/#' });
    assert.equal(example.connection, 'local');
    assert.deepEqual(initialConfig(undefined, undefined, []), {});
  });
});

describe('renderer flow graph: connection rules', () => {
  const nodes = [
    node('src', 'mqtt-in'),
    node('t1', 'transform'),
    node('t2', 'transform'),
    node('v', 'validate'),
    node('db', 'sqlite-sink'),
  ];

  it('accepts an output-to-input edge', () => {
    assert.equal(
      connectionProblem({ source: 'src', sourceHandle: 'out', target: 't1', targetHandle: 'in' }, nodes, [], portsOf),
      undefined,
    );
    assert.equal(
      connectionProblem({ source: 'v', sourceHandle: 'invalid', target: 'db', targetHandle: 'in' }, nodes, [], portsOf),
      undefined,
    );
  });

  it('refuses an edge into a source, unknown ports and self-loops', () => {
    assert.match(
      connectionProblem({ source: 't1', sourceHandle: 'out', target: 'src', targetHandle: null }, nodes, [], portsOf) ??
        '',
      /is a source/,
    );
    assert.match(
      connectionProblem({ source: 'v', sourceHandle: 'out', target: 'db', targetHandle: 'in' }, nodes, [], portsOf) ??
        '',
      /no output/,
    );
    assert.match(
      connectionProblem({ source: 't1', sourceHandle: 'out', target: 't1', targetHandle: 'in' }, nodes, [], portsOf) ??
        '',
      /itself/,
    );
    assert.match(connectionProblem({ source: 'nope', target: 't1' }, nodes, [], portsOf) ?? '', /not on the canvas/);
  });

  it('refuses a duplicate edge', () => {
    const edges = [edge('src', 't1')];
    assert.match(
      connectionProblem(
        { source: 'src', sourceHandle: 'out', target: 't1', targetHandle: 'in' },
        nodes,
        edges,
        portsOf,
      ) ?? '',
      /already connected/,
    );
  });

  it('refuses an edge that closes a cycle', () => {
    const edges = [edge('t1', 't2'), edge('t2', 'v')];
    assert.equal(wouldCreateCycle(edges, 'v', 't1'), true);
    assert.equal(wouldCreateCycle(edges, 't1', 'v'), false);
    assert.match(
      connectionProblem(
        { source: 't2', sourceHandle: 'out', target: 't1', targetHandle: 'in' },
        nodes,
        edges,
        portsOf,
      ) ?? '',
      /cycle/,
    );
  });
});
