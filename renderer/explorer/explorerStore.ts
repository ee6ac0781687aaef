import { create } from 'zustand';
import type {
  ExplorerConnectionConfig,
  ExplorerConnectionInfo,
  ExplorerEvents,
  InferredSchema,
  RecordingInfo,
  TopicMessage,
  TopicMessageProperties,
} from '../../shared/protocol/explorerProtocol.js';
import { desktopBridge } from '../desktopPlatform.js';
import { ProtocolClient, type ConnectionState } from '../protocolClient.js';
import type { SeriesKey } from './model/chartData.js';
import { applyColumns, applyStats, createTree, type TopicTree } from './model/topicTree.js';
import {
  createSync,
  finishSnapshot,
  needsSnapshot,
  receiveDelta,
  startSnapshot,
  type TreeSync,
} from './model/treeSync.js';

export type ExplorerViewName = 'flow' | 'explorer';
export type DetailTab = 'detail' | 'chart' | 'publish';

/** Messages of the open topic the page keeps (the engine's history is bounded too). */
export const PAGE_HISTORY_MAX = 500;
/** Messages asked for per history poll. */
export const HISTORY_POLL_LIMIT = 200;
/** The detail pane polls the open topic's history this often. */
export const HISTORY_POLL_MS = 500;
/** Recent publishes kept for reuse. */
export const RECENT_PUBLISHES_MAX = 20;

export interface PublishDraft {
  readonly topic: string;
  readonly payload: string;
  readonly format: 'text' | 'json';
  readonly qos: 0 | 1 | 2;
  readonly retain: boolean;
  readonly properties: TopicMessageProperties | undefined;
}

export interface ExplorerNotice {
  readonly kind: 'info' | 'error';
  readonly text: string;
}

export interface FlowDialog {
  readonly topic: string;
  readonly subtree: boolean;
  readonly inferred: InferredSchema | undefined;
  readonly error: string | undefined;
}

export interface RetainedConfirm {
  readonly topic: string;
  /** The topics under `topic` the tree last saw retained. */
  readonly topics: readonly string[];
}

export interface TreeView {
  readonly tree: TopicTree | undefined;
  readonly structure: number;
}

export interface ExplorerState {
  readonly view: ExplorerViewName;
  readonly client: ConnectionState;
  readonly connections: readonly ExplorerConnectionInfo[];
  /** Whether `explorer.connections.list` answered (false: the engine has no explorer, or not yet). */
  readonly available: boolean | undefined;
  readonly selectedConnection: string | undefined;
  /** Bumped on every change of the selected connection's tree (counts). */
  readonly treeData: number;
  /**
   * The selected connection's tree, as a new object whenever nodes are added to it or it is
   * replaced: what the rows are flattened from (the tree itself is mutated in place).
   */
  readonly treeView: TreeView;
  readonly treeLoading: boolean;
  readonly expanded: ReadonlySet<string>;
  readonly query: string;
  /** Nodes the user collapsed while searching (search results open everything otherwise). */
  readonly searchCollapsed: ReadonlySet<string>;
  readonly selectedTopic: string | undefined;
  readonly detailTab: DetailTab;
  readonly history: readonly TopicMessage[];
  readonly historyEvicted: number;
  /** Seq of the message shown in the detail (undefined: the newest). */
  readonly pickedSeq: number | undefined;
  readonly recordings: readonly RecordingInfo[];
  readonly recentPublishes: readonly PublishDraft[];
  /** Set by "reuse" on a recent publish; the panel loads it when `publishLoads` changes. */
  readonly publishDraft: PublishDraft | undefined;
  readonly publishLoads: number;
  readonly series: readonly SeriesKey[];
  /** The connection form: the id edited, '' for a new one, undefined when closed. */
  readonly editing: string | undefined;
  readonly notice: ExplorerNotice | undefined;
  readonly flowDialog: FlowDialog | undefined;
  readonly retainedConfirm: RetainedConfirm | undefined;
}

export const useExplorer = create<ExplorerState>(() => ({
  view: 'flow',
  client: 'closed',
  connections: [],
  available: undefined,
  selectedConnection: undefined,
  treeData: 0,
  treeView: { tree: undefined, structure: 0 },
  treeLoading: false,
  expanded: new Set(),
  query: '',
  searchCollapsed: new Set(),
  selectedTopic: undefined,
  detailTab: 'detail',
  history: [],
  historyEvicted: 0,
  pickedSeq: undefined,
  recordings: [],
  recentPublishes: [],
  publishDraft: undefined,
  publishLoads: 0,
  series: [],
  editing: undefined,
  notice: undefined,
  flowDialog: undefined,
  retainedConfirm: undefined,
}));

const set = useExplorer.setState;
const get = useExplorer.getState;

// ---- engine connection -----------------------------------------------------------------------

let client: ProtocolClient | undefined;
/** The client the explorer opened itself (when main.tsx attached none). */
let ownClient: ProtocolClient | undefined;
let detach: (() => void) | undefined;

const trees = new Map<string, TreeSync>();
/** The last connection info seen per connection, for the consistency check. */
const lastInfo = new Map<string, ExplorerConnectionInfo>();
/** Expanded folders per connection, kept when switching connections. */
const expandedBy = new Map<string, ReadonlySet<string>>();
/**
 * Topics applied per slice when building a tree from a snapshot (~50-100 ms each here). Each yield
 * lets the page handle what queued meanwhile, which cost ~300 ms in all with 20,000-topic slices at
 * 100,000 topics; two slices keep the open under a second and no task near 200 ms.
 */
const SNAPSHOT_SLICE = 50_000;

/** The tree of a connection, or undefined before its first snapshot. */
export function treeOf(connection: string | undefined): TopicTree | undefined {
  return connection === undefined ? undefined : trees.get(connection)?.tree;
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** An info notice goes away by itself after this long; an error stays until dismissed. */
const INFO_NOTICE_MS = 6000;
let noticeTimer: ReturnType<typeof setTimeout> | undefined;

export function notify(kind: ExplorerNotice['kind'], text: string): void {
  const notice = { kind, text };
  set({ notice });
  clearTimeout(noticeTimer);
  if (kind === 'info') {
    noticeTimer = setTimeout(() => {
      if (get().notice === notice) set({ notice: undefined });
    }, INFO_NOTICE_MS);
  }
}

export function dismissExplorerNotice(): void {
  set({ notice: undefined });
}

/** The engine's client; throws (a notice names it) when the explorer has none yet. */
export function call(): ProtocolClient {
  if (!client) throw new Error('not connected to the engine');
  return client;
}

/**
 * Wires the explorer to the engine. main.tsx should pass the editor's client; when nothing did,
 * the view opens its own (`ensureExplorerClient`), so the explorer also works when only App.tsx
 * knows about it.
 */
export function attachExplorer(c: ProtocolClient): () => void {
  detach?.();
  // The editor's client replaces the one the explorer opened for itself.
  if (ownClient && ownClient !== c) ownClient.dispose();
  ownClient = undefined;
  client = c;
  const offState = c.onState((state) => {
    set({ client: state });
    if (state === 'open') {
      void refreshConnections();
      // After a reconnect every delta in between is lost: start each tree over from a snapshot.
      for (const connection of trees.keys()) void snapshot(connection);
    }
  });
  const offDelta = c.on('explorer.delta', onDelta);
  const offConnections = c.on('explorer.connections', (event) => {
    setConnections(event.connections);
    checkConsistency(event.connections);
  });
  if (c.state === 'open') {
    set({ client: 'open' });
    void refreshConnections();
  }
  c.connect();
  detach = () => {
    offState();
    offDelta();
    offConnections();
  };
  return () => {
    detach?.();
    detach = undefined;
    client = undefined;
  };
}

/** The page's client when main.tsx did not attach one: the same `/api` the editor uses. */
export function ensureExplorerClient(): void {
  // In the desktop app the engine is reached over the preload's MessagePort, which main.tsx owns:
  // there the explorer waits for attachExplorer(client) rather than opening a WebSocket.
  if (client || typeof window === 'undefined' || desktopBridge()) return;
  const own = ProtocolClient.forPage(window.location);
  attachExplorer(own);
  ownClient = own;
}

function setConnections(connections: readonly ExplorerConnectionInfo[]): void {
  const state = get();
  const ids = connections.map((c) => c.config.connection.id);
  for (const id of [...trees.keys()]) if (!ids.includes(id)) trees.delete(id);
  const selected =
    state.selectedConnection !== undefined && ids.includes(state.selectedConnection)
      ? state.selectedConnection
      : ids[0];
  set({ connections, available: true });
  if (selected !== state.selectedConnection) selectConnection(selected);
}

export async function refreshConnections(): Promise<void> {
  try {
    const result = await call().call('explorer.connections.list', {});
    performance.mark('explorer:connections-listed');
    setConnections(result.connections);
    void refreshRecordings();
  } catch (error) {
    set({ available: false });
    notify('error', `Topic explorer: ${errorText(error)}`);
  }
}

// ---- the tree --------------------------------------------------------------------------------

function bumpTree(connection: string, structure: boolean): void {
  if (get().selectedConnection !== connection) return;
  const { treeData, treeView } = get();
  set(
    structure
      ? { treeData: treeData + 1, treeView: { tree: trees.get(connection)?.tree, structure: treeView.structure + 1 } }
      : { treeData: treeData + 1 },
  );
}

/** (Re)loads a connection's tree from a snapshot, then applies the deltas that follow it. */
export async function snapshot(connection: string): Promise<void> {
  let sync = trees.get(connection);
  if (!sync) {
    sync = createSync();
    trees.set(connection, sync);
  }
  if (sync.loading) return;
  startSnapshot(sync);
  if (get().selectedConnection === connection) set({ treeLoading: true });
  try {
    performance.mark('explorer:snapshot-requested');
    // Columns: about half the bytes of objects, and much cheaper to serialize and parse.
    const result = await call().call('explorer.tree.snapshot', { connection, columns: true });
    performance.mark('explorer:snapshot-received');
    const columns = result.columns;
    const total = columns ? columns.topic.length : result.topics.length;
    // Built in slices with a yield between them, so 100,000 topics never block the page for long.
    const tree = createTree();
    for (let from = 0; from < total; from += SNAPSHOT_SLICE) {
      if (from > 0) await new Promise((resolve) => setTimeout(resolve, 0));
      const to = Math.min(total, from + SNAPSHOT_SLICE);
      if (columns) applyColumns(tree, columns, from, to);
      else applyStats(tree, result.topics, from, to);
    }
    performance.mark('explorer:tree-built');
    if (trees.get(connection) !== sync) return;
    finishSnapshot(sync, result.seq, tree);
    bumpTree(connection, true);
  } catch (error) {
    sync.loading = false;
    notify('error', `Topic tree of ${connection}: ${errorText(error)}`);
  } finally {
    if (get().selectedConnection === connection) set({ treeLoading: false });
  }
}

function onDelta(delta: ExplorerEvents['explorer.delta']): void {
  const sync = trees.get(delta.connection);
  // A tree nobody opened is not kept: its first snapshot brings everything.
  if (!sync) return;
  const structure = sync.tree.structure;
  if (receiveDelta(sync, delta) === 'applied') bumpTree(delta.connection, sync.tree.structure !== structure);
}

/** On each connections event: a tree that lost deltas starts over (see needsSnapshot). */
function checkConsistency(connections: readonly ExplorerConnectionInfo[]): void {
  for (const info of connections) {
    const id = info.config.connection.id;
    const sync = trees.get(id);
    const previous = lastInfo.get(id);
    lastInfo.set(id, info);
    if (sync && needsSnapshot(sync, info, previous)) void snapshot(id);
  }
}

export function selectConnection(connection: string | undefined): void {
  const state = get();
  if (state.selectedConnection !== undefined) expandedBy.set(state.selectedConnection, state.expanded);
  set({
    selectedConnection: connection,
    expanded: (connection !== undefined && expandedBy.get(connection)) || new Set(),
    searchCollapsed: new Set(),
    selectedTopic: undefined,
    history: [],
    historyEvicted: 0,
    pickedSeq: undefined,
    series: [],
    treeData: state.treeData + 1,
    treeView: { tree: treeOf(connection), structure: state.treeView.structure + 1 },
  });
  openTree();
}

/**
 * Loads the selected connection's tree the first time the explorer shows it: a page that stays in
 * the Flow view never holds a tree (100,000 topics are tens of MB of heap).
 */
function openTree(): void {
  const { view, selectedConnection } = get();
  if (view !== 'explorer' || selectedConnection === undefined || trees.has(selectedConnection)) return;
  if (client?.state === 'open') void snapshot(selectedConnection);
}

export function toggleExpanded(path: string): void {
  const state = get();
  if (state.query !== '') {
    const collapsed = new Set(state.searchCollapsed);
    if (collapsed.has(path)) collapsed.delete(path);
    else collapsed.add(path);
    set({ searchCollapsed: collapsed });
    return;
  }
  const expanded = new Set(state.expanded);
  if (expanded.has(path)) expanded.delete(path);
  else expanded.add(path);
  set({ expanded });
}

/** Opens every ancestor of `topic` so its row is on screen. */
export function reveal(topic: string): void {
  const expanded = new Set(get().expanded);
  const levels = topic.split('/');
  for (let i = 1; i < levels.length; i++) expanded.add(levels.slice(0, i).join('/'));
  set({ expanded });
}

export function collapseAll(): void {
  set({ expanded: new Set(), searchCollapsed: new Set() });
}

export function setQuery(query: string): void {
  set({ query, searchCollapsed: new Set() });
}

export async function clearTree(): Promise<void> {
  const connection = get().selectedConnection;
  if (connection === undefined) return;
  try {
    const result = await call().call('explorer.tree.clear', { connection });
    notify('info', `Cleared ${result.cleared} topics from the tree (retained messages stay on the broker).`);
    set({ selectedTopic: undefined, history: [], pickedSeq: undefined });
    await snapshot(connection);
  } catch (error) {
    notify('error', errorText(error));
  }
}

// ---- selection and history -------------------------------------------------------------------

let historyToken = 0;

export function selectTopic(topic: string | undefined): void {
  if (topic === get().selectedTopic) return;
  historyToken++;
  set({ selectedTopic: topic, history: [], historyEvicted: 0, pickedSeq: undefined });
}

export function pickMessage(seq: number | undefined): void {
  set({ pickedSeq: seq });
}

/** Fetches the open topic's messages newer than those on the page (one poll). */
export async function pollHistory(): Promise<void> {
  const { selectedConnection: connection, selectedTopic: topic, history } = get();
  if (connection === undefined || topic === undefined || !client || client.state !== 'open') return;
  const token = historyToken;
  const last = history[history.length - 1];
  try {
    const result = await client.call('explorer.topic.history', {
      connection,
      topic,
      ...(last ? { sinceSeq: last.seq } : {}),
      limit: HISTORY_POLL_LIMIT,
    });
    if (token !== historyToken || result.messages.length === 0) return;
    const merged = [...get().history, ...result.messages.filter((m) => !last || m.seq > last.seq)];
    set({
      history: merged.length > PAGE_HISTORY_MAX ? merged.slice(merged.length - PAGE_HISTORY_MAX) : merged,
      historyEvicted: result.evicted,
    });
  } catch (error) {
    if (token === historyToken) notify('error', `History of ${topic}: ${errorText(error)}`);
  }
}

export function setDetailTab(tab: DetailTab): void {
  set({ detailTab: tab });
}

// ---- connections -----------------------------------------------------------------------------

export function editConnection(id: string | undefined): void {
  set({ editing: id });
}

export async function saveConnection(config: ExplorerConnectionConfig): Promise<boolean> {
  try {
    await call().call('explorer.connections.save', { config });
    set({ editing: undefined });
    await refreshConnections();
    // A saved connection may have new filters: its old tree no longer says what it watches.
    trees.delete(config.connection.id);
    selectConnection(config.connection.id);
    notify('info', `Saved connection ${config.connection.id}.`);
    return true;
  } catch (error) {
    notify('error', `Saving ${config.connection.id}: ${errorText(error)}`);
    return false;
  }
}

export async function setConnectionEnabled(info: ExplorerConnectionInfo, enabled: boolean): Promise<void> {
  try {
    await call().call('explorer.connections.save', { config: { ...info.config, enabled } });
    await refreshConnections();
  } catch (error) {
    notify('error', errorText(error));
  }
}

export async function removeConnection(id: string): Promise<void> {
  try {
    await call().call('explorer.connections.remove', { connection: id });
    trees.delete(id);
    expandedBy.delete(id);
    await refreshConnections();
    notify('info', `Removed connection ${id}.`);
  } catch (error) {
    notify('error', errorText(error));
  }
}

export function selectedConnectionInfo(): ExplorerConnectionInfo | undefined {
  const { connections, selectedConnection } = get();
  return connections.find((c) => c.config.connection.id === selectedConnection);
}

export async function refreshRecordings(): Promise<void> {
  if (!client || client.state !== 'open') return;
  try {
    const result = await client.call('explorer.recording.list', {});
    set({ recordings: result.recordings });
  } catch {
    // The explorer may not be there (older engine): the recording section stays empty.
  }
}

export function showView(view: ExplorerViewName): void {
  set({ view });
  if (view === 'explorer') {
    ensureExplorerClient();
    openTree();
  }
}
