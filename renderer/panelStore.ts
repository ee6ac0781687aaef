import { create } from 'zustand';
import type {
  DeadLetterItem,
  DebugMessage,
  ProtocolEvents,
  ReplayOutcome,
  RowsPage,
  TableInfo,
} from '../shared/protocol/protocol.js';
import type { ProtocolClient } from './protocolClient.js';

/** The debug ring keeps the last this many messages. */
export const DEBUG_RING_SIZE = 1000;
/** Rows per page of the Store tab. */
export const STORE_PAGE_SIZE = 100;
/** Dead letters the tab lists (newest first). */
export const DEAD_LETTERS_PAGE = 200;

export type PanelTab = 'debug' | 'deadLetters' | 'store';

export interface PanelState {
  readonly tab: PanelTab;
  readonly collapsed: boolean;
  readonly height: number;
  // debug
  readonly debug: readonly DebugMessage[];
  readonly debugPaused: boolean;
  /** Dropped by the engine's rate limit. */
  readonly debugDropped: number;
  /** Arrived while paused (not kept). */
  readonly debugSkipped: number;
  /** Pushed out of the ring by newer messages. */
  readonly debugEvicted: number;
  readonly debugNode: string;
  // dead letters
  readonly letters: readonly DeadLetterItem[];
  readonly lettersTotal: number;
  readonly lettersSelected: ReadonlySet<number>;
  readonly lettersMessage: string | undefined;
  // store
  readonly tables: readonly TableInfo[];
  readonly table: string | undefined;
  readonly page: RowsPage | undefined;
  readonly storeMessage: string | undefined;
}

export const usePanel = create<PanelState>(() => ({
  tab: 'debug',
  collapsed: false,
  height: 240,
  debug: [],
  debugPaused: false,
  debugDropped: 0,
  debugSkipped: 0,
  debugEvicted: 0,
  debugNode: '',
  letters: [],
  lettersTotal: 0,
  lettersSelected: new Set(),
  lettersMessage: undefined,
  tables: [],
  table: undefined,
  page: undefined,
  storeMessage: undefined,
}));

const set = usePanel.setState;
const get = usePanel.getState;

let client: ProtocolClient | undefined;

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Feeds debug events into the ring; returns the detach. */
export function attachPanel(c: ProtocolClient): () => void {
  client = c;
  const off = c.on('debug', receiveDebug);
  return () => {
    off();
    client = undefined;
  };
}

export function receiveDebug(event: ProtocolEvents['debug']): void {
  const state = get();
  if (state.debugPaused) {
    set({ debugSkipped: state.debugSkipped + event.messages.length, debugDropped: state.debugDropped + event.dropped });
    return;
  }
  if (event.messages.length === 0) {
    if (event.dropped > 0) set({ debugDropped: state.debugDropped + event.dropped });
    return;
  }
  const all = [...state.debug, ...event.messages];
  const evicted = Math.max(0, all.length - DEBUG_RING_SIZE);
  set({
    debug: evicted > 0 ? all.slice(evicted) : all,
    debugDropped: state.debugDropped + event.dropped,
    debugEvicted: state.debugEvicted + evicted,
  });
}

export function setTab(tab: PanelTab): void {
  set({ tab, collapsed: false });
  if (tab === 'deadLetters') void refreshLetters();
  if (tab === 'store') void refreshTables();
}

export function toggleCollapsed(): void {
  set({ collapsed: !get().collapsed });
}

export function setHeight(height: number): void {
  set({ height: Math.round(Math.min(Math.max(height, 120), window.innerHeight - 200)) });
}

export function setDebugPaused(paused: boolean): void {
  set({ debugPaused: paused });
}

export function setDebugNode(node: string): void {
  set({ debugNode: node });
}

export function clearDebug(): void {
  set({ debug: [], debugDropped: 0, debugSkipped: 0, debugEvicted: 0 });
}

// ---- dead letters ----------------------------------------------------------------------------

export async function refreshLetters(): Promise<void> {
  if (!client) return;
  try {
    const result = await client.call('deadLetters.list', { limit: DEAD_LETTERS_PAGE });
    const ids = new Set(result.items.map((d) => d.id));
    set({
      letters: result.items,
      lettersTotal: result.total,
      lettersSelected: new Set([...get().lettersSelected].filter((id) => ids.has(id))),
    });
  } catch (error) {
    set({ lettersMessage: message(error) });
  }
}

export function toggleLetter(id: number): void {
  const selected = new Set(get().lettersSelected);
  if (!selected.delete(id)) selected.add(id);
  set({ lettersSelected: selected });
}

export function selectAllLetters(all: boolean): void {
  set({ lettersSelected: new Set(all ? get().letters.map((d) => d.id) : []) });
}

export async function purgeSelected(): Promise<void> {
  const ids = [...get().lettersSelected];
  if (!client || ids.length === 0) return;
  try {
    const result = await client.call('deadLetters.purge', { ids });
    set({
      lettersMessage: `Purged ${result.purged} dead letter${result.purged === 1 ? '' : 's'}.`,
      lettersSelected: new Set(),
    });
  } catch (error) {
    set({ lettersMessage: message(error) });
  }
  await refreshLetters();
}

export function describeReplay(result: ReplayOutcome): string {
  const first = result.errors[0];
  return (
    `Replayed ${result.replayed} dead letter${result.replayed === 1 ? '' : 's'}` +
    (first ? `; ${result.errors.length} not replayed (#${first.id}: ${first.error}).` : '.')
  );
}

export async function replaySelected(): Promise<void> {
  const ids = [...get().lettersSelected].sort((a, b) => a - b);
  if (!client || ids.length === 0) return;
  try {
    const result = await client.call('deadLetters.replay', { ids });
    set({ lettersMessage: describeReplay(result), lettersSelected: new Set() });
  } catch (error) {
    set({ lettersMessage: message(error) });
  }
  await refreshLetters();
}

// ---- store -----------------------------------------------------------------------------------

export async function refreshTables(): Promise<void> {
  if (!client) return;
  try {
    const result = await client.call('store.tables', {});
    set({ tables: result.tables, storeMessage: undefined });
    const table = get().table;
    const keep = table !== undefined && result.tables.some((t) => t.name === table);
    const next = keep ? table : (result.tables.find((t) => !t.name.startsWith('tf_'))?.name ?? result.tables[0]?.name);
    if (next !== undefined) await openTable(next, keep ? (get().page?.offset ?? 0) : 0);
    else set({ table: undefined, page: undefined });
  } catch (error) {
    set({ storeMessage: message(error) });
  }
}

export async function openTable(table: string, offset = 0): Promise<void> {
  if (!client) return;
  set({ table });
  try {
    const page = await client.call('store.rows', { table, offset, limit: STORE_PAGE_SIZE });
    if (get().table === table) set({ page, storeMessage: undefined });
  } catch (error) {
    set({ storeMessage: message(error) });
  }
}
