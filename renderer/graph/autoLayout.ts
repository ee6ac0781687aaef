import type { ElkExtendedEdge, ElkNode, ElkPort } from 'elkjs/lib/elk-api.js';
import type { CanvasEdge, CanvasNode, PortsOf } from './flowGraph.js';

/**
 * Auto-layout of a flow with elkjs: left to right (ELK's layered algorithm), each node's ports in
 * the order the catalog declares them. DOM-free: elkjs's bundled build runs in-process (no Worker)
 * under Node as in the browser, so this is unit-tested under plain Node.
 */

export interface Size {
  readonly width: number;
  readonly height: number;
}

export type Positions = Readonly<Record<string, { readonly x: number; readonly y: number }>>;

/** What a node measures before React Flow has drawn it (about a flow node with one port row). */
export const DEFAULT_NODE_SIZE: Size = { width: 180, height: 90 };

export const LAYOUT_OPTIONS: Readonly<Record<string, string>> = {
  'elk.algorithm': 'layered',
  'elk.direction': 'RIGHT',
  'elk.edgeRouting': 'SPLINES',
  'elk.spacing.nodeNode': '40',
  'elk.layered.spacing.nodeNodeBetweenLayers': '80',
  'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
  'elk.separateConnectedComponents': 'true',
  'elk.spacing.componentComponent': '60',
  'elk.padding': '[top=0,left=0,bottom=0,right=0]',
};

/** A node as the layout sees it: React Flow's measured size when there is one. */
interface SizedNode extends CanvasNode {
  readonly measured?: { readonly width?: number | undefined; readonly height?: number | undefined } | undefined;
}

export function sizeOf(node: SizedNode, fallback: Size = DEFAULT_NODE_SIZE): Size {
  const width = node.measured?.width;
  const height = node.measured?.height;
  return {
    width: width !== undefined && width > 0 ? width : fallback.width,
    height: height !== undefined && height > 0 ? height : fallback.height,
  };
}

export function portId(nodeId: string, side: 'in' | 'out', port: string): string {
  return `${nodeId}\u0000${side}\u0000${port}`;
}

/**
 * The ELK graph of a flow. Inputs sit on the west side, outputs on the east, in catalog order
 * (`FIXED_ORDER`: ELK numbers ports clockwise from the top-left, so west ports count upwards).
 * Ports an edge names but the catalog does not (an unknown node type) follow the declared ones.
 */
export function toElkGraph(
  nodes: readonly SizedNode[],
  edges: readonly CanvasEdge[],
  portsOf: (type: string) => PortsOf | undefined,
): ElkNode {
  const ids = new Set(nodes.map((n) => n.id));
  const laidEdges = edges.filter((e) => ids.has(e.source) && ids.has(e.target) && e.source !== e.target);
  const children = nodes.map((node): ElkNode => {
    const spec = portsOf(node.data.type);
    const inputs = (spec?.inputs ?? []).map((p) => p.name);
    const outputs = (spec?.outputs ?? []).map((p) => p.name);
    for (const e of laidEdges) {
      if (e.target === node.id && !inputs.includes(e.targetHandle)) inputs.push(e.targetHandle);
      if (e.source === node.id && !outputs.includes(e.sourceHandle)) outputs.push(e.sourceHandle);
    }
    const ports: ElkPort[] = [
      ...outputs.map((name, i): ElkPort => ({
        id: portId(node.id, 'out', name),
        width: 1,
        height: 1,
        layoutOptions: { 'elk.port.side': 'EAST', 'elk.port.index': String(i) },
      })),
      ...inputs.map((name, i): ElkPort => ({
        id: portId(node.id, 'in', name),
        width: 1,
        height: 1,
        layoutOptions: {
          'elk.port.side': 'WEST',
          'elk.port.index': String(outputs.length + inputs.length - 1 - i),
        },
      })),
    ];
    return {
      id: node.id,
      ...sizeOf(node),
      ports,
      layoutOptions: { 'elk.portConstraints': 'FIXED_ORDER' },
    };
  });
  const elkEdges = laidEdges.map((e): ElkExtendedEdge => ({
    id: e.id,
    sources: [portId(e.source, 'out', e.sourceHandle)],
    targets: [portId(e.target, 'in', e.targetHandle)],
  }));
  return { id: 'root', layoutOptions: { ...LAYOUT_OPTIONS }, children, edges: elkEdges };
}

/**
 * Node positions from a laid-out ELK graph, shifted so the layout starts where the nodes' old
 * bounding box started (the view stays roughly put), rounded as the document saves them.
 */
export function positionsFrom(laidOut: ElkNode, origin: { x: number; y: number } = { x: 0, y: 0 }): Positions {
  const children = laidOut.children ?? [];
  const minX = Math.min(...children.map((c) => c.x ?? 0));
  const minY = Math.min(...children.map((c) => c.y ?? 0));
  const positions: Record<string, { x: number; y: number }> = {};
  for (const child of children) {
    positions[child.id] = {
      x: Math.round(origin.x + (child.x ?? 0) - minX),
      y: Math.round(origin.y + (child.y ?? 0) - minY),
    };
  }
  return positions;
}

/** The nodes moved to their new positions; nodes without one (or already there) are kept as they are. */
export function applyPositions<T extends CanvasNode>(nodes: readonly T[], positions: Positions): T[] {
  return nodes.map((node) => {
    const p = positions[node.id];
    if (!p || (p.x === node.position.x && p.y === node.position.y)) return node;
    return { ...node, position: { x: p.x, y: p.y } };
  });
}

interface Elk {
  layout(graph: ElkNode): Promise<ElkNode>;
}

let elk: Promise<Elk> | undefined;

/** elkjs is loaded on first use (its own chunk in the editor's bundle). */
function loadElk(): Promise<Elk> {
  elk ??= import('elkjs/lib/elk.bundled.js').then((module: unknown) => {
    // CommonJS through ESM interop: the constructor is the default export, or its `default`.
    let ctor: unknown = module;
    for (let i = 0; i < 3 && typeof ctor !== 'function'; i++) ctor = (ctor as { default?: unknown }).default;
    if (typeof ctor !== 'function') throw new Error('elkjs did not load');
    return new (ctor as new () => Elk)();
  });
  return elk;
}

/** Lays the flow out left to right; answers the new position of every node. */
export async function autoLayout(
  nodes: readonly SizedNode[],
  edges: readonly CanvasEdge[],
  portsOf: (type: string) => PortsOf | undefined,
): Promise<Positions> {
  if (nodes.length === 0) return {};
  const origin = {
    x: Math.min(...nodes.map((n) => n.position.x)),
    y: Math.min(...nodes.map((n) => n.position.y)),
  };
  const laidOut = await (await loadElk()).layout(toElkGraph(nodes, edges, portsOf));
  return positionsFrom(laidOut, origin);
}

/** True when two boxes overlap (touching edges is not overlapping). */
export function overlaps(a: { x: number; y: number } & Size, b: { x: number; y: number } & Size): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}
