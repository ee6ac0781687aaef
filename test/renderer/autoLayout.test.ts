import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  applyPositions,
  autoLayout,
  DEFAULT_NODE_SIZE,
  overlaps,
  portId,
  positionsFrom,
  sizeOf,
  toElkGraph,
} from '../../renderer/graph/autoLayout.js';
import type { CanvasEdge, CanvasNode, PortsOf } from '../../renderer/graph/flowGraph.js';
import { graphToDocument } from '../../renderer/graph/flowGraph.js';

const CATALOG: Record<string, PortsOf> = {
  source: { inputs: [], outputs: [{ name: 'out' }] },
  router: { inputs: [{ name: 'in' }], outputs: [{ name: 'first' }, { name: 'second' }, { name: 'third' }] },
  join: { inputs: [{ name: 'left' }, { name: 'right' }], outputs: [{ name: 'out' }] },
  sink: { inputs: [{ name: 'in' }], outputs: [] },
};
const portsOf = (type: string) => CATALOG[type];

function node(id: string, type: string, x = 0, y = 0, measured?: { width: number; height: number }): CanvasNode {
  const n: CanvasNode = { id, type: 'flowNode', position: { x, y }, data: { type, config: { keep: id } } };
  return measured ? ({ ...n, measured } as CanvasNode) : n;
}

function edge(id: string, source: string, sourceHandle: string, target: string, targetHandle: string): CanvasEdge {
  return { id, source, sourceHandle, target, targetHandle };
}

function boxes(nodes: readonly CanvasNode[], positions: Record<string, { x: number; y: number }>) {
  return nodes.map((n) => ({ id: n.id, ...(positions[n.id] as { x: number; y: number }), ...sizeOf(n) }));
}

describe('renderer auto-layout (elkjs)', () => {
  it('maps nodes, sizes and ports in catalog order onto an ELK layered graph', () => {
    const graph = toElkGraph(
      [node('r', 'router', 0, 0, { width: 200, height: 130 }), node('j', 'join'), node('x', 'mystery')],
      [
        edge('e1', 'r', 'second', 'j', 'right'),
        edge('e2', 'r', 'first', 'x', 'weird'),
        edge('loop', 'j', 'out', 'j', 'left'),
      ],
      portsOf,
    );
    assert.equal(graph.layoutOptions?.['elk.algorithm'], 'layered');
    assert.equal(graph.layoutOptions?.['elk.direction'], 'RIGHT');
    const [r, j, x] = graph.children ?? [];
    assert.ok(r && j && x);
    assert.deepEqual([r.width, r.height], [200, 130]);
    assert.deepEqual([j.width, j.height], [DEFAULT_NODE_SIZE.width, DEFAULT_NODE_SIZE.height]);
    assert.equal(r.layoutOptions?.['elk.portConstraints'], 'FIXED_ORDER');
    // Outputs east, top to bottom in catalog order; inputs west, numbered clockwise (upwards).
    const ports = (n: typeof r) =>
      (n.ports ?? []).map((p) => [p.id, p.layoutOptions?.['elk.port.side'], p.layoutOptions?.['elk.port.index']]);
    assert.deepEqual(ports(r), [
      [portId('r', 'out', 'first'), 'EAST', '0'],
      [portId('r', 'out', 'second'), 'EAST', '1'],
      [portId('r', 'out', 'third'), 'EAST', '2'],
      [portId('r', 'in', 'in'), 'WEST', '3'],
    ]);
    assert.deepEqual(ports(j), [
      [portId('j', 'out', 'out'), 'EAST', '0'],
      [portId('j', 'in', 'left'), 'WEST', '2'],
      [portId('j', 'in', 'right'), 'WEST', '1'],
    ]);
    // An unknown type gets the ports its edges name.
    assert.deepEqual(ports(x), [[portId('x', 'in', 'weird'), 'WEST', '0']]);
    // Self-loops are left out of the layout.
    assert.deepEqual(
      (graph.edges ?? []).map((e) => [e.id, e.sources, e.targets]),
      [
        ['e1', [portId('r', 'out', 'second')], [portId('j', 'in', 'right')]],
        ['e2', [portId('r', 'out', 'first')], [portId('x', 'in', 'weird')]],
      ],
    );
  });

  it('shifts positions to an origin and rounds them; applyPositions moves only what changed', () => {
    const positions = positionsFrom(
      {
        id: 'root',
        children: [
          { id: 'a', x: 10.4, y: 20 },
          { id: 'b', x: 150.6, y: 5 },
        ],
      },
      { x: 100, y: -50 },
    );
    assert.deepEqual(positions, { a: { x: 100, y: -35 }, b: { x: 240, y: -50 } });
    const a = node('a', 'source', 100, -35);
    const b = node('b', 'sink');
    const moved = applyPositions([a, b, node('c', 'sink', 7, 7)], positions);
    assert.equal(moved[0], a);
    assert.deepEqual(moved[1]?.position, { x: 240, y: -50 });
    assert.deepEqual(moved[1]?.data, b.data);
    assert.deepEqual(moved[2]?.position, { x: 7, y: 7 });
  });

  it('lays a flow out left to right without overlaps, ports in catalog order', async () => {
    // Deliberately piled up on one spot, the sinks listed in the opposite order to the ports.
    const nodes = [
      node('s3', 'sink', 40, 40),
      node('s2', 'sink', 40, 40),
      node('s1', 'sink', 40, 40, { width: 240, height: 120 }),
      node('r', 'router', 40, 40, { width: 200, height: 130 }),
      node('src', 'source', 40, 40),
    ];
    const edges = [
      edge('e0', 'src', 'out', 'r', 'in'),
      edge('e3', 'r', 'third', 's3', 'in'),
      edge('e2', 'r', 'second', 's2', 'in'),
      edge('e1', 'r', 'first', 's1', 'in'),
    ];
    const positions = await autoLayout(nodes, edges, portsOf);
    assert.deepEqual(Object.keys(positions).sort(), ['r', 's1', 's2', 's3', 'src']);
    const at = (id: string) => positions[id] as { x: number; y: number };
    // Layers from left to right.
    assert.ok(at('src').x + DEFAULT_NODE_SIZE.width <= at('r').x);
    for (const sink of ['s1', 's2', 's3']) assert.ok(at('r').x + 200 <= at(sink).x, sink);
    // The router's outputs, top to bottom, feed the sinks top to bottom.
    assert.ok(at('s1').y < at('s2').y && at('s2').y < at('s3').y, JSON.stringify(positions));
    // The layout starts where the nodes were.
    assert.equal(Math.min(...Object.values(positions).map((p) => p.x)), 40);
    assert.equal(Math.min(...Object.values(positions).map((p) => p.y)), 40);
    const laid = boxes(nodes, positions);
    for (const a of laid) for (const b of laid) if (a !== b) assert.ok(!overlaps(a, b), `${a.id} overlaps ${b.id}`);
  });

  it('changes only the layout of the document, never its config', async () => {
    const meta = { name: 'F', connections: [] };
    const nodes = [node('a', 'source'), node('b', 'sink'), node('c', 'sink')];
    const edges = [edge('e1', 'a', 'out', 'b', 'in'), edge('e2', 'a', 'out', 'c', 'in')];
    const moved = applyPositions(nodes, await autoLayout(nodes, edges, portsOf));
    const before = graphToDocument({ meta, nodes, edges });
    const after = graphToDocument({ meta, nodes: moved, edges });
    assert.notDeepEqual(after.layout, before.layout);
    assert.deepEqual({ ...after, layout: undefined }, { ...before, layout: undefined });
    const laid = boxes(moved, Object.fromEntries(moved.map((n) => [n.id, n.position])));
    for (const a of laid) for (const b of laid) if (a !== b) assert.ok(!overlaps(a, b), `${a.id} overlaps ${b.id}`);
  });

  it('answers nothing for an empty flow', async () => {
    assert.deepEqual(await autoLayout([], [], portsOf), {});
  });
});
