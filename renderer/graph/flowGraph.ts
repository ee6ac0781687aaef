import type { FlowConnection, FlowDocument, FlowEdge, FlowNode } from '../../shared/flow/flowDocument.js';
import type { FlowProblem } from '../../shared/flow/validateFlow.js';

/**
 * The pure half of the editor's store: the flow document ↔ canvas mapping, connection rules
 * and ids. DOM-free and React-free, so it is unit-tested under plain Node.
 */

export const FLOW_FORMAT = 'topicflow/flow@1';
/** The React Flow node type every flow node is drawn with. */
export const FLOW_NODE_TYPE = 'flowNode';

/** What a canvas node carries: serialisable, never functions. */
export interface FlowNodeData extends Record<string, unknown> {
  readonly type: string;
  readonly name?: string | undefined;
  readonly config: Record<string, unknown>;
}

/** A canvas node, structurally compatible with React Flow's `Node<FlowNodeData, 'flowNode'>`. */
export interface CanvasNode {
  readonly id: string;
  readonly type: typeof FLOW_NODE_TYPE;
  readonly position: { readonly x: number; readonly y: number };
  readonly data: FlowNodeData;
  readonly selected?: boolean;
  /**
   * The size React Flow assumes until the node is measured. With it, a node outside the view (not
   * mounted under `onlyRenderVisibleElements`, so never measured) still counts for fitView and
   * for deciding what is visible.
   */
  readonly initialWidth?: number;
  readonly initialHeight?: number;
}

/** The node card's width (styles.css `.flow-node`) and a typical height (one port row, badges). */
export const NODE_WIDTH = 190;
export const NODE_INITIAL_HEIGHT = 100;

/** A canvas edge: handles are port names. */
export interface CanvasEdge {
  readonly id: string;
  readonly source: string;
  readonly sourceHandle: string;
  readonly target: string;
  readonly targetHandle: string;
  readonly selected?: boolean;
}

/** The parts of a flow document that are not nodes, edges or layout. */
export interface FlowMeta {
  readonly name: string;
  readonly description?: string | undefined;
  readonly connections: readonly FlowConnection[];
}

export interface PortsOf {
  readonly inputs: readonly { readonly name: string }[];
  readonly outputs: readonly { readonly name: string }[];
}

export interface CanvasGraph {
  readonly meta: FlowMeta;
  readonly nodes: CanvasNode[];
  readonly edges: CanvasEdge[];
}

const GRID_X = 260;
const GRID_Y = 120;

/** Maps a document onto the canvas; nodes without a layout position are placed on a grid. */
export function documentToGraph(document: FlowDocument): CanvasGraph {
  const positions = document.layout?.nodes ?? {};
  const nodes = document.nodes.map((node, index): CanvasNode => {
    const position = positions[node.id] ?? { x: (index % 4) * GRID_X, y: Math.floor(index / 4) * GRID_Y };
    const data: FlowNodeData = { type: node.type, config: { ...(node.config ?? {}) } };
    return {
      id: node.id,
      type: FLOW_NODE_TYPE,
      position: { x: position.x, y: position.y },
      data: node.name === undefined ? data : { ...data, name: node.name },
      initialWidth: NODE_WIDTH,
      initialHeight: NODE_INITIAL_HEIGHT,
    };
  });
  const edges = (document.edges ?? []).map((edge): CanvasEdge => ({
    id: edge.id,
    source: edge.from.node,
    sourceHandle: edge.from.port,
    target: edge.to.node,
    targetHandle: edge.to.port,
  }));
  const meta: FlowMeta = {
    name: document.name,
    connections: document.connections ?? [],
    ...(document.description === undefined ? {} : { description: document.description }),
  };
  return { meta, nodes, edges };
}

/** Builds the document back: configuration in `nodes`/`edges`, positions apart in `layout`. */
export function graphToDocument(graph: {
  readonly meta: FlowMeta;
  readonly nodes: readonly CanvasNode[];
  readonly edges: readonly CanvasEdge[];
}): FlowDocument {
  const nodes = graph.nodes.map((n): FlowNode => {
    const node: FlowNode = { id: n.id, type: n.data.type, config: { ...n.data.config } };
    if (n.data.name !== undefined && n.data.name !== '') node.name = n.data.name;
    return node;
  });
  const edges = graph.edges.map((e): FlowEdge => ({
    id: e.id,
    from: { node: e.source, port: e.sourceHandle },
    to: { node: e.target, port: e.targetHandle },
  }));
  const layoutNodes: Record<string, { x: number; y: number }> = {};
  for (const n of graph.nodes) layoutNodes[n.id] = { x: Math.round(n.position.x), y: Math.round(n.position.y) };
  const document: FlowDocument = {
    format: FLOW_FORMAT,
    name: graph.meta.name,
    connections: graph.meta.connections.map((c) => ({ ...c })),
    nodes,
    edges,
    layout: { nodes: layoutNodes },
  };
  if (graph.meta.description !== undefined) document.description = graph.meta.description;
  return document;
}

/** `base-1`, `base-2`, …: the first that no node uses (ids match the flow format's pattern). */
export function uniqueId(base: string, taken: Iterable<string>): string {
  const used = new Set(taken);
  const stem =
    base
      .replace(/[^A-Za-z0-9_.-]/g, '-')
      .replace(/^[^A-Za-z0-9]+/, '')
      .slice(0, 56) || 'node';
  for (let n = 1; ; n++) {
    const id = `${stem}-${n}`;
    if (!used.has(id)) return id;
  }
}

/** True when `to` can already reach `from` along the edges, so an edge from → to closes a cycle. */
export function wouldCreateCycle(edges: readonly CanvasEdge[], from: string, to: string): boolean {
  if (from === to) return true;
  const next = new Map<string, string[]>();
  for (const e of edges) {
    const list = next.get(e.source);
    if (list) list.push(e.target);
    else next.set(e.source, [e.target]);
  }
  const seen = new Set<string>();
  const stack = [to];
  while (stack.length > 0) {
    const node = stack.pop() as string;
    if (node === from) return true;
    if (seen.has(node)) continue;
    seen.add(node);
    stack.push(...(next.get(node) ?? []));
  }
  return false;
}

export interface ProposedConnection {
  readonly source: string | null;
  readonly sourceHandle?: string | null | undefined;
  readonly target: string | null;
  readonly targetHandle?: string | null | undefined;
}

/**
 * Why an edge may not be drawn, or undefined when it may: ports must exist (an output on the
 * source, an input on the target: nothing flows into a source node), no duplicate, no cycle.
 */
export function connectionProblem(
  connection: ProposedConnection,
  nodes: readonly CanvasNode[],
  edges: readonly CanvasEdge[],
  portsOf: (type: string) => PortsOf | undefined,
): string | undefined {
  const { source, target } = connection;
  if (!source || !target) return 'an edge needs both ends';
  const from = nodes.find((n) => n.id === source);
  const to = nodes.find((n) => n.id === target);
  if (!from || !to) return 'an end of the edge is not on the canvas';
  const fromPorts = portsOf(from.data.type);
  const toPorts = portsOf(to.data.type);
  if (!fromPorts || !toPorts) return 'unknown node type';
  const sourcePort = connection.sourceHandle ?? fromPorts.outputs[0]?.name;
  const targetPort = connection.targetHandle ?? toPorts.inputs[0]?.name;
  if (toPorts.inputs.length === 0) return `${to.id} is a source: nothing flows into it`;
  if (!sourcePort || !fromPorts.outputs.some((p) => p.name === sourcePort))
    return `${from.id} has no output ${sourcePort}`;
  if (!targetPort || !toPorts.inputs.some((p) => p.name === targetPort)) return `${to.id} has no input ${targetPort}`;
  if (source === target) return 'a node cannot feed itself';
  if (
    edges.some(
      (e) =>
        e.source === source && e.sourceHandle === sourcePort && e.target === target && e.targetHandle === targetPort,
    )
  ) {
    return 'these ports are already connected';
  }
  if (wouldCreateCycle(edges, source, target)) return 'the edge would close a cycle';
  return undefined;
}

/** A problem of the last validation, tied to the node its pointer is inside (if any). */
export interface NodeProblem extends FlowProblem {
  readonly nodeId: string | undefined;
}

/** Ties each problem to a node: `/nodes/3/...` is the fourth node of the validated document. */
export function problemsByNode(document: FlowDocument, problems: readonly FlowProblem[]): NodeProblem[] {
  return problems.map((problem) => {
    const match = /^\/nodes\/(\d+)(?:\/|$)/.exec(problem.pointer);
    const nodeId = match ? document.nodes[Number(match[1])]?.id : undefined;
    return { ...problem, nodeId };
  });
}

/** A starting config for a new node: the catalog's example, wired to the flow's first connection. */
export function initialConfig(
  example: unknown,
  usesConnection: 'always' | 'sometimes' | undefined,
  connections: readonly FlowConnection[],
): Record<string, unknown> {
  const config =
    typeof example === 'object' && example !== null && !Array.isArray(example)
      ? (JSON.parse(JSON.stringify(example)) as Record<string, unknown>)
      : {};
  const first = connections[0]?.id;
  if (usesConnection !== undefined && first !== undefined && 'connection' in config) config['connection'] = first;
  if (usesConnection === 'always' && first !== undefined) config['connection'] = first;
  return config;
}

/** The document a new editor starts with. */
export function emptyDocument(): FlowDocument {
  return {
    format: FLOW_FORMAT,
    name: 'Untitled flow',
    connections: [{ id: 'broker', url: '${env:MQTT_URL:-mqtt://127.0.0.1:1883}' }],
    nodes: [],
    edges: [],
    layout: { nodes: {} },
  };
}
