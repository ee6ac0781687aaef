import { applyEdgeChanges, applyNodeChanges, type EdgeChange, type NodeChange } from '@xyflow/react';
import { create } from 'zustand';
import type { FlowConnection, FlowDocument } from '../shared/flow/flowDocument.js';
import type {
  CatalogNode,
  DeployOutcome,
  FlowFileInfo,
  LastMessage,
  PreviewOutcome,
  ProtocolConnectionStatus,
  ProtocolEngineStatus,
  ProtocolNodeStatus,
  SampleMessage,
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
  NODE_INITIAL_HEIGHT,
  NODE_WIDTH,
  type CanvasEdge,
  type CanvasNode,
  type FlowMeta,
  type NodeProblem,
  type ProposedConnection,
} from './graph/flowGraph.js';
import { applyPositions, autoLayout } from './graph/autoLayout.js';
import {
  copySelection,
  parseClipboard,
  pastePayload,
  serializeClipboard,
  PASTE_OFFSET,
  type ClipboardPayload,
} from './graph/clipboard.js';
import {
  emptyHistory,
  record,
  redo as redoHistory,
  sameDocument,
  takeSnapshot,
  undo as undoHistory,
  type EditorSnapshot,
  type History,
} from './graph/history.js';
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
  /** Bumped after each auto-layout, so the canvas fits the view to the new positions. */
  readonly layouts: number;
  /** Bumped on every undo/redo, so panels holding drafts start over (without a re-fit). */
  readonly restores: number;
  /** Names the current document state; `dirty` is `revision !== savedRevision`. */
  readonly revision: number;
  readonly savedRevision: number;
  readonly history: History<EditorSnapshot>;
  /** Per-broker connection state of the deployed flow, from the last status event. */
  readonly brokers: readonly ProtocolConnectionStatus[];
  /** A file name for Save As after an import (the imported file's). */
  readonly importedName: string | undefined;
  /** The open modal dialog, if any. */
  readonly dialog: EditorDialog | undefined;
  /** Bumped to ask the canvas to fit the view (menu View > Fit). */
  readonly fits: number;
}

export type EditorDialog = 'saveAs' | 'export';

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
  layouts: 0,
  restores: 0,
  revision: 0,
  savedRevision: 0,
  history: emptyHistory(),
  brokers: [],
  importedName: undefined,
  dialog: undefined,
  fits: 0,
}));

const set = useEditor.setState;
const get = useEditor.getState;

let client: ProtocolClient | undefined;

/** The engine's client once attached (flowCommands.ts calls through it). */
export function engineClient(): ProtocolClient | undefined {
  return client;
}

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

export async function withClient<T>(run: (c: ProtocolClient) => Promise<T>): Promise<T | undefined> {
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
  if (!sameBrokers(get().brokers, status.connections)) set({ brokers: status.connections });
}

/** Whether two broker lists show the same (so a status event that changed nothing re-renders nothing). */
export function sameBrokers(a: readonly ProtocolConnectionStatus[], b: readonly ProtocolConnectionStatus[]): boolean {
  return (
    a.length === b.length &&
    a.every((x, i) => {
      const y = b[i];
      return y !== undefined && x.id === y.id && x.state === y.state && x.url === y.url && x.lastError === y.lastError;
    })
  );
}

// ---- history --------------------------------------------------------------------------------

let lastRevision = 0;
/** The merge key of the last recorded change: consecutive changes with one key are one undo step. */
let lastMergeKey: string | undefined;
/** Changes recorded in one synchronous run (React Flow removes edges, then nodes) are one step. */
let batchOpen = false;
/** The state before a node drag began; recorded once, when the drag stops. */
let dragBase: EditorSnapshot | undefined;

/** A new document revision (a loaded or imported flow); the next edit starts a new undo step. */
export function nextRevision(): number {
  lastMergeKey = undefined;
  dragBase = undefined;
  return ++lastRevision;
}

/** After a save the next edit starts a new undo step (it is not merged into the one before). */
export function closeUndoStep(): void {
  lastMergeKey = undefined;
}

function snapshotNow(): EditorSnapshot {
  const state = get();
  return takeSnapshot(state.revision, state);
}

/**
 * Applies a user change to the document and records `before` for undo. Nothing is recorded when
 * the document did not change (a click on a node, an Apply of the same config).
 */
function commit(before: EditorSnapshot, patch: Partial<EditorState>, mergeKey?: string): void {
  const state = get();
  const after = {
    meta: patch.meta ?? state.meta,
    nodes: patch.nodes ?? state.nodes,
    edges: patch.edges ?? state.edges,
  };
  if (sameDocument(before, after)) {
    set(patch);
    return;
  }
  const merge = batchOpen || (mergeKey !== undefined && mergeKey === lastMergeKey);
  const revision = ++lastRevision;
  set({
    // "The flow is valid." (or "Saved", "Deployed") speaks of the document before this change.
    notice: state.notice?.kind === 'info' ? undefined : state.notice,
    validatedOk: state.validatedOk === true ? undefined : state.validatedOk,
    ...patch,
    revision,
    dirty: revision !== state.savedRevision,
    history: merge ? state.history : record(state.history, before),
  });
  lastMergeKey = mergeKey;
  if (!batchOpen) {
    batchOpen = true;
    queueMicrotask(() => {
      batchOpen = false;
    });
  }
}

/** Puts a snapshot back, keeping the selection of nodes that are still there. */
function restore(snapshot: EditorSnapshot, history: History<EditorSnapshot>): void {
  const state = get();
  const selected = new Set(state.nodes.filter((n) => n.selected).map((n) => n.id));
  const nodes = snapshot.nodes.map((n) => (selected.has(n.id) ? { ...n, selected: true } : n));
  const selectedId =
    state.selectedId !== undefined && nodes.some((n) => n.id === state.selectedId) ? state.selectedId : undefined;
  lastMergeKey = undefined;
  dragBase = undefined;
  set({
    meta: snapshot.meta,
    nodes,
    edges: [...snapshot.edges],
    revision: snapshot.revision,
    dirty: snapshot.revision !== state.savedRevision,
    selectedId,
    history,
    restores: state.restores + 1,
    notice: state.notice?.kind === 'info' ? undefined : state.notice,
    validatedOk: state.validatedOk === true ? undefined : state.validatedOk,
  });
}

export function undo(): void {
  const step = undoHistory(get().history, snapshotNow());
  if (step) restore(step.snapshot, step.history);
}

export function redo(): void {
  const step = redoHistory(get().history, snapshotNow());
  if (step) restore(step.snapshot, step.history);
}

// ---- canvas edits --------------------------------------------------------------------------

export function onNodesChange(changes: NodeChange[]): void {
  // A drag in progress sends a change per mouse move: no snapshot of the whole graph for those.
  const dragMove = dragBase !== undefined && changes.every((c) => c.type === 'position' && c.dragging === true);
  const before = dragMove ? (dragBase as EditorSnapshot) : snapshotNow();
  const nodes = applyNodeChanges(changes, get().nodes as never) as unknown as CanvasNode[];
  const selected = changes.find((c) => c.type === 'select' && c.selected);
  const removedSelection = changes.some((c) => c.type === 'remove' && c.id === get().selectedId);
  const patch: Partial<EditorState> = {
    nodes,
    ...(selected && selected.type === 'select' ? { selectedId: selected.id } : {}),
    ...(removedSelection ? { selectedId: undefined } : {}),
  };
  if (changes.some((c) => c.type === 'position' && c.dragging === true)) dragBase ??= before;
  // A drag is recorded once, when it stops (onNodeDragStop); other moves (arrow keys) right away.
  const edit = changes.some(
    (c) => c.type === 'remove' || c.type === 'add' || c.type === 'replace' || (c.type === 'position' && !dragBase),
  );
  if (edit) commit(before, patch);
  else set(patch);
}

export function onNodeDragStart(): void {
  dragBase ??= snapshotNow();
}

export function onNodeDragStop(): void {
  const base = dragBase;
  dragBase = undefined;
  if (base) commit(base, {});
}

export function onEdgesChange(changes: EdgeChange[]): void {
  const before = snapshotNow();
  const edges = applyEdgeChanges(changes, get().edges as never) as unknown as CanvasEdge[];
  if (changes.some((c) => c.type !== 'select')) commit(before, { edges });
  else set({ edges });
}

export function selectNode(id: string | undefined): void {
  if (id !== undefined || !get().nodes.some((n) => n.selected)) return set({ selectedId: id });
  // Closing the inspector deselects on the canvas too, so the outline does not stay behind.
  set({ selectedId: undefined, nodes: get().nodes.map((n) => (n.selected ? { ...n, selected: false } : n)) });
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
  commit(snapshotNow(), { edges: [...edges, edge] });
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
    initialWidth: NODE_WIDTH,
    initialHeight: NODE_INITIAL_HEIGHT,
  };
  commit(snapshotNow(), {
    nodes: [...nodes.map((n) => (n.selected ? { ...n, selected: false } : n)), { ...node, selected: true }],
    selectedId: id,
  });
  return id;
}

export function updateNode(id: string, name: string, config: Record<string, unknown>): void {
  commit(snapshotNow(), {
    nodes: get().nodes.map((n) =>
      n.id === id ? { ...n, data: { ...n.data, name: name === '' ? undefined : name, config } } : n,
    ),
  });
}

/** Typing a name is one undo step (consecutive edits of the name merge). */
export function setFlowName(name: string): void {
  commit(snapshotNow(), { meta: { ...get().meta, name } }, 'flow-name');
}

export function setConnections(connections: readonly FlowConnection[]): void {
  commit(snapshotNow(), { meta: { ...get().meta, connections } });
}

// ---- auto-layout ---------------------------------------------------------------------------

let layoutRunning = false;

/**
 * Lays the flow out left to right (elkjs) as one undo step; only positions change, so the
 * document's `layout` does and its config does not. A result that arrives after the user has
 * edited the flow meanwhile is dropped. False when nothing was laid out.
 */
export async function layoutFlow(): Promise<boolean> {
  const { nodes, edges, revision } = get();
  if (layoutRunning || nodes.length === 0) return false;
  layoutRunning = true;
  try {
    const positions = await autoLayout(nodes, edges, portsOf);
    if (get().revision !== revision) return false;
    commit(snapshotNow(), { nodes: applyPositions(get().nodes, positions) });
    set({ layouts: get().layouts + 1 });
    return true;
  } catch (error) {
    fail(error);
    return false;
  } finally {
    layoutRunning = false;
  }
}

// ---- copy/paste ----------------------------------------------------------------------------

/** The last copy, for when the system clipboard is refused (headless browsers, no permission). */
let memoryClipboard: string | undefined;
let lastPasted: string | undefined;
let pasteCount = 0;
const CLIPBOARD_TIMEOUT_MS = 500;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('clipboard timed out')), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

function systemClipboard(): Clipboard | undefined {
  return typeof navigator === 'undefined' ? undefined : navigator.clipboard;
}

/** Copies the selected nodes and the edges between them; false when nothing is selected. */
export async function copySelected(): Promise<boolean> {
  const { nodes, edges, selectedId } = get();
  const ids = nodes.filter((n) => n.selected).map((n) => n.id);
  if (ids.length === 0 && selectedId !== undefined) ids.push(selectedId);
  const payload = copySelection(nodes, edges, ids);
  if (!payload) return false;
  const text = serializeClipboard(payload);
  memoryClipboard = text;
  set({
    notice: { kind: 'info', text: `Copied ${payload.nodes.length} node${payload.nodes.length === 1 ? '' : 's'}.` },
  });
  const clipboard = systemClipboard();
  if (clipboard) await withTimeout(clipboard.writeText(text), CLIPBOARD_TIMEOUT_MS).catch(() => undefined);
  return true;
}

async function readClipboard(): Promise<{ text: string; payload: ClipboardPayload } | undefined> {
  const clipboard = systemClipboard();
  if (clipboard) {
    const text = await withTimeout(clipboard.readText(), CLIPBOARD_TIMEOUT_MS).catch(() => undefined);
    const payload = text === undefined ? undefined : parseClipboard(text);
    if (text !== undefined && payload) return { text, payload };
  }
  const payload = memoryClipboard === undefined ? undefined : parseClipboard(memoryClipboard);
  return memoryClipboard !== undefined && payload ? { text: memoryClipboard, payload } : undefined;
}

/** Pastes the clipboard: fresh ids, shifted a little further on each paste, the new nodes selected. */
export async function paste(): Promise<boolean> {
  const read = await readClipboard();
  if (!read) return false;
  pasteCount = read.text === lastPasted ? pasteCount + 1 : 1;
  lastPasted = read.text;
  const { nodes, edges } = get();
  const offset = PASTE_OFFSET * pasteCount;
  const added = pastePayload(read.payload, { nodes, edges }, { x: offset, y: offset });
  commit(snapshotNow(), {
    nodes: [...nodes.map((n) => (n.selected ? { ...n, selected: false } : n)), ...added.nodes],
    edges: [...edges.map((e) => (e.selected ? { ...e, selected: false } : e)), ...added.edges],
    selectedId: added.nodes.length === 1 ? added.nodes[0]?.id : undefined,
  });
  return true;
}

export function dismissNotice(): void {
  set({ notice: undefined });
}

// ---- selection and view commands (menus, keys) ------------------------------------------------

export function selectAll(): void {
  set({ nodes: get().nodes.map((n) => (n.selected ? n : { ...n, selected: true })) });
}

/** Deletes the selected nodes (and their edges) as one undo step. */
export function deleteSelected(): void {
  const { nodes, edges, selectedId } = get();
  const gone = new Set(nodes.filter((n) => n.selected || n.id === selectedId).map((n) => n.id));
  const selectedEdges = edges.filter((e) => e.selected).map((e) => e.id);
  if (gone.size === 0 && selectedEdges.length === 0) return;
  commit(snapshotNow(), {
    nodes: nodes.filter((n) => !gone.has(n.id)),
    edges: edges.filter((e) => !gone.has(e.source) && !gone.has(e.target) && !selectedEdges.includes(e.id)),
    selectedId: selectedId !== undefined && gone.has(selectedId) ? undefined : selectedId,
  });
}

export function requestFit(): void {
  set({ fits: get().fits + 1 });
}

// ---- expression preview ----------------------------------------------------------------------

/** The last message node `id` received in the deployed flow; null when none (or offline). */
export async function fetchLastMessage(id: string): Promise<LastMessage | null> {
  if (!client || get().connection !== 'open') return null;
  const result = await client.call('nodes.lastMessage', { node: id });
  return result.last;
}

/** Evaluates an expression in the engine against a sample message, or the node's last message. */
export async function previewExpression(
  expression: string,
  source: { readonly message: SampleMessage } | { readonly node: string },
): Promise<PreviewOutcome> {
  if (!client || get().connection !== 'open') {
    return { ok: false, error: { message: 'not connected to the engine' } };
  }
  return client.call('expression.preview', { expression, ...source });
}
