import { applyEdgeChanges, applyNodeChanges, type EdgeChange, type NodeChange } from '@xyflow/react';
import { create } from 'zustand';
import type { FlowConnection, FlowDocument } from '../shared/flow/flowDocument.js';
import type {
  CatalogNode,
  DeployOutcome,
  FlowFileInfo,
  ProtocolEngineStatus,
  ProtocolNodeStatus,
} from '../shared/protocol/protocol.js';
import {
  connectionProblem,
  documentToGraph,
  emptyDocument,
  graphToDocument,
  initialConfig,
  problemsByNode,
  uniqueId,
  FLOW_NODE_TYPE,
  type CanvasEdge,
  type CanvasNode,
  type FlowMeta,
  type NodeProblem,
  type ProposedConnection,
} from './graph/flowGraph.js';
import { ProtocolCallError, type ConnectionState, type ProtocolClient } from './protocolClient.js';

export interface Notice {
  readonly kind: 'info' | 'error';
  readonly text: string;
}

/** What a node badge shows; replaced only when one of its numbers changes. */
export interface NodeBadge {
  readonly state: ProtocolNodeStatus['state'];
  readonly in: number;
  readonly out: number;
  readonly errors: number;
  readonly error: string | undefined;
}

export interface EditorState {
  readonly connection: ConnectionState;
  readonly catalog: readonly CatalogNode[];
  readonly catalogByType: Readonly<Record<string, CatalogNode>>;
  /** Workspace file of the open flow; undefined until saved once. */
  readonly fileName: string | undefined;
  readonly meta: FlowMeta;
  readonly nodes: CanvasNode[];
  readonly edges: CanvasEdge[];
  readonly dirty: boolean;
  readonly selectedId: string | undefined;
  readonly problems: readonly NodeProblem[];
  readonly validatedOk: boolean | undefined;
  readonly badges: Readonly<Record<string, NodeBadge>>;
  readonly running: boolean;
  readonly lastDeploy: DeployOutcome | undefined;
  readonly notice: Notice | undefined;
  readonly busy: boolean;
  readonly flowFiles: readonly FlowFileInfo[] | undefined;
  /** Bumped whenever a document is loaded, so panels holding drafts start over. */
  readonly loads: number;
}

const initialGraph = documentToGraph(emptyDocument());

export const useEditor = create<EditorState>(() => ({
  connection: 'closed',
  catalog: [],
  catalogByType: {},
  fileName: undefined,
  meta: initialGraph.meta,
  nodes: initialGraph.nodes,
  edges: initialGraph.edges,
  dirty: false,
  selectedId: undefined,
  problems: [],
  validatedOk: undefined,
  badges: {},
  running: false,
  lastDeploy: undefined,
  notice: undefined,
  busy: false,
  flowFiles: undefined,
  loads: 0,
}));

const set = useEditor.setState;
const get = useEditor.getState;

let client: ProtocolClient | undefined;

function portsOf(type: string) {
  return get().catalogByType[type];
}

export function currentDocument(): FlowDocument {
  const { meta, nodes, edges } = get();
  return graphToDocument({ meta, nodes, edges });
}

function fail(error: unknown): void {
  const text = error instanceof Error ? error.message : String(error);
  set({ notice: { kind: 'error', text } });
  if (error instanceof ProtocolCallError && error.problems) {
    set({ problems: problemsByNode(currentDocument(), error.problems), validatedOk: false });
  }
}

async function withClient<T>(run: (c: ProtocolClient) => Promise<T>): Promise<T | undefined> {
  if (!client) return undefined;
  set({ busy: true });
  try {
    return await run(client);
  } catch (error) {
    fail(error);
    return undefined;
  } finally {
    set({ busy: false });
  }
}

/** Wires the store to the engine: catalog on every (re)connect, live status events. */
export function attachClient(c: ProtocolClient): () => void {
  client = c;
  const offState = c.onState((state) => {
    set({ connection: state });
    if (state === 'open') {
      void c.call('catalog.get', {}).then(
        (result) => {
          const byType: Record<string, CatalogNode> = {};
          for (const node of result.nodes) byType[node.type] = node;
          set({ catalog: result.nodes, catalogByType: byType });
        },
        (error: unknown) => fail(error),
      );
      void c.call('engine.status', {}).then(applyStatus, () => undefined);
    }
  });
  const offStatus = c.on('status', applyStatus);
  const offDeployed = c.on('deployed', (outcome) => set({ lastDeploy: outcome }));
  c.connect();
  return () => {
    offState();
    offStatus();
    offDeployed();
    c.dispose();
    client = undefined;
  };
}

/** Keeps each badge object unless its numbers changed, so only the nodes that changed re-render. */
export function applyStatus(status: ProtocolEngineStatus): void {
  const previous = get().badges;
  let changed = Object.keys(previous).length !== status.nodes.length;
  const badges: Record<string, NodeBadge> = {};
  for (const node of status.nodes) {
    const old = previous[node.id];
    const { in: msgIn, out, errors } = node.counters;
    if (
      old &&
      old.state === node.state &&
      old.in === msgIn &&
      old.out === out &&
      old.errors === errors &&
      old.error === node.error
    ) {
      badges[node.id] = old;
    } else {
      badges[node.id] = { state: node.state, in: msgIn, out, errors, error: node.error };
      changed = true;
    }
  }
  if (changed) set({ badges });
  if (get().running !== status.running) set({ running: status.running });
}

// ---- canvas edits --------------------------------------------------------------------------

export function onNodesChange(changes: NodeChange[]): void {
  const meaningful = changes.some((c) => c.type !== 'select' && c.type !== 'dimensions');
  const nodes = applyNodeChanges(changes, get().nodes as never) as unknown as CanvasNode[];
  const selected = changes.find((c) => c.type === 'select' && c.selected);
  const removedSelection = changes.some((c) => c.type === 'remove' && c.id === get().selectedId);
  set({
    nodes,
    ...(meaningful ? { dirty: true } : {}),
    ...(selected && selected.type === 'select' ? { selectedId: selected.id } : {}),
    ...(removedSelection ? { selectedId: undefined } : {}),
  });
}

export function onEdgesChange(changes: EdgeChange[]): void {
  const meaningful = changes.some((c) => c.type !== 'select');
  const edges = applyEdgeChanges(changes, get().edges as never) as unknown as CanvasEdge[];
  set({ edges, ...(meaningful ? { dirty: true } : {}) });
}

export function selectNode(id: string | undefined): void {
  set({ selectedId: id });
}

export function canConnect(connection: ProposedConnection): boolean {
  const { nodes, edges } = get();
  return connectionProblem(connection, nodes, edges, portsOf) === undefined;
}

export function connect(connection: ProposedConnection): void {
  const { nodes, edges } = get();
  const problem = connectionProblem(connection, nodes, edges, portsOf);
  if (problem !== undefined || !connection.source || !connection.target) {
    set({ notice: { kind: 'error', text: problem ?? 'invalid edge' } });
    return;
  }
  const source = nodes.find((n) => n.id === connection.source) as CanvasNode;
  const target = nodes.find((n) => n.id === connection.target) as CanvasNode;
  const edge: CanvasEdge = {
    id: uniqueId(
      'e',
      edges.map((e) => e.id),
    ),
    source: source.id,
    sourceHandle: connection.sourceHandle ?? portsOf(source.data.type)?.outputs[0]?.name ?? 'out',
    target: target.id,
    targetHandle: connection.targetHandle ?? portsOf(target.data.type)?.inputs[0]?.name ?? 'in',
  };
  set({ edges: [...edges, edge], dirty: true });
}

export function addNode(type: string, position: { x: number; y: number }): string | undefined {
  const spec = portsOf(type);
  if (!spec) return undefined;
  const { nodes, meta } = get();
  const id = uniqueId(
    type,
    nodes.map((n) => n.id),
  );
  const node: CanvasNode = {
    id,
    type: FLOW_NODE_TYPE,
    position,
    data: { type, config: initialConfig(spec.example, spec.usesConnection, meta.connections) },
  };
  set({
    nodes: [...nodes.map((n) => (n.selected ? { ...n, selected: false } : n)), { ...node, selected: true }],
    selectedId: id,
    dirty: true,
  });
  return id;
}

export function updateNode(id: string, name: string, config: Record<string, unknown>): void {
  set({
    nodes: get().nodes.map((n) =>
      n.id === id ? { ...n, data: { ...n.data, name: name === '' ? undefined : name, config } } : n,
    ),
    dirty: true,
  });
}

export function setFlowName(name: string): void {
  set({ meta: { ...get().meta, name }, dirty: true });
}

export function setConnections(connections: readonly FlowConnection[]): void {
  set({ meta: { ...get().meta, connections }, dirty: true });
}

export function dismissNotice(): void {
  set({ notice: undefined });
}

// ---- engine calls --------------------------------------------------------------------------

export async function validate(): Promise<boolean> {
  const document = currentDocument();
  const result = await withClient((c) => c.call('flows.validate', { document }));
  if (!result) return false;
  set({ problems: problemsByNode(document, result.problems), validatedOk: result.ok });
  if (result.ok) set({ notice: { kind: 'info', text: 'The flow is valid.' } });
  return result.ok;
}

export async function listFlows(): Promise<void> {
  const result = await withClient((c) => c.call('flows.list', {}));
  if (result) set({ flowFiles: result.flows });
}

export function closeFlowList(): void {
  set({ flowFiles: undefined });
}

export function loadDocument(document: FlowDocument, fileName: string | undefined): void {
  const graph = documentToGraph(document);
  set({
    fileName,
    meta: graph.meta,
    nodes: graph.nodes,
    edges: graph.edges,
    dirty: false,
    selectedId: undefined,
    problems: [],
    validatedOk: undefined,
    flowFiles: undefined,
    loads: get().loads + 1,
  });
}

export async function openFlow(name: string): Promise<void> {
  const result = await withClient((c) => c.call('flows.open', { name }));
  if (!result) return;
  loadDocument(result.document as FlowDocument, result.name);
  set({
    problems: problemsByNode(result.document as FlowDocument, result.validation.problems),
    validatedOk: result.validation.ok,
    notice: { kind: 'info', text: `Opened ${result.name}.` },
  });
}

export function newFlow(): void {
  loadDocument(emptyDocument(), undefined);
}

/** A workspace file name from a flow name: `Pico sensors` → `pico-sensors.json`. */
export function fileNameFor(name: string): string {
  const stem = name
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[-.]+|-+$/g, '');
  return `${stem || 'flow'}.json`;
}

export async function saveFlow(name: string): Promise<boolean> {
  const document = currentDocument();
  const result = await withClient((c) => c.call('flows.save', { name, document }));
  if (!result) return false;
  set({
    fileName: result.name,
    dirty: false,
    problems: problemsByNode(document, result.validation.problems),
    validatedOk: result.validation.ok,
    notice: {
      kind: result.validation.ok ? 'info' : 'error',
      text: result.validation.ok ? `Saved ${result.name}.` : `Saved ${result.name}, but the flow has problems.`,
    },
  });
  return true;
}

export async function deploy(): Promise<void> {
  const document = currentDocument();
  const result = await withClient((c) => c.call('engine.deploy', { document }));
  if (!result) return;
  set({
    lastDeploy: result,
    problems: [],
    validatedOk: true,
    notice: {
      kind: result.failed.length > 0 ? 'error' : 'info',
      text: `Deployed: ${result.added.length} added, ${result.changed.length} changed, ${result.removed.length} removed, ${result.unchanged.length} unchanged${result.failed.length > 0 ? `; failed: ${result.failed.map((f) => `${f.node} (${f.error})`).join(', ')}` : ''}.`,
    },
  });
}

export async function stop(): Promise<void> {
  const result = await withClient((c) => c.call('engine.stop', {}));
  if (result) set({ running: false, notice: { kind: 'info', text: 'Engine stopped.' } });
}
