import { graphToDocument, type CanvasEdge, type CanvasNode, type FlowMeta } from './flowGraph.js';

/**
 * Undo/redo for the editor: a bounded stack of document snapshots. DOM-free and React-free, so it
 * is unit-tested under plain Node. Snapshots are immutable values; the store swaps them in.
 */

/** How many steps back undo can go; older snapshots are dropped. */
export const HISTORY_LIMIT = 100;

export interface History<T> {
  /** Oldest first: the last entry is what undo restores. */
  readonly past: readonly T[];
  /** Nearest first: the first entry is what redo restores. */
  readonly future: readonly T[];
}

export function emptyHistory<T>(): History<T> {
  return { past: [], future: [] };
}

/** Records the state before a change: pushed onto `past` (bounded), `future` cleared. */
export function record<T>(history: History<T>, before: T, limit = HISTORY_LIMIT): History<T> {
  const past = [...history.past, before];
  return { past: past.length > limit ? past.slice(past.length - limit) : past, future: [] };
}

/** Steps back: returns the snapshot to restore, with `current` kept for redo; undefined when nothing to undo. */
export function undo<T>(history: History<T>, current: T): { history: History<T>; snapshot: T } | undefined {
  if (history.past.length === 0) return undefined;
  const snapshot = history.past[history.past.length - 1] as T;
  return { history: { past: history.past.slice(0, -1), future: [current, ...history.future] }, snapshot };
}

/** Steps forward again: the inverse of `undo`; undefined when nothing to redo. */
export function redo<T>(history: History<T>, current: T): { history: History<T>; snapshot: T } | undefined {
  if (history.future.length === 0) return undefined;
  const snapshot = history.future[0] as T;
  return { history: { past: [...history.past, current], future: history.future.slice(1) }, snapshot };
}

/**
 * The document-relevant part of the editor. `revision` names the exact state: the store compares
 * it with the saved revision, so undoing back to what was saved makes the flow clean again.
 */
export interface EditorSnapshot {
  readonly revision: number;
  readonly meta: FlowMeta;
  readonly nodes: readonly CanvasNode[];
  readonly edges: readonly CanvasEdge[];
}

/** A snapshot without selection state (selection is not part of the document). */
export function takeSnapshot(
  revision: number,
  graph: { readonly meta: FlowMeta; readonly nodes: readonly CanvasNode[]; readonly edges: readonly CanvasEdge[] },
): EditorSnapshot {
  return {
    revision,
    meta: graph.meta,
    nodes: graph.nodes.map(({ selected: _selected, ...node }) => node),
    edges: graph.edges.map(({ selected: _selected, ...edge }) => edge),
  };
}

/** True when two graphs would save as the same document (positions rounded as on save). */
export function sameDocument(
  a: { readonly meta: FlowMeta; readonly nodes: readonly CanvasNode[]; readonly edges: readonly CanvasEdge[] },
  b: { readonly meta: FlowMeta; readonly nodes: readonly CanvasNode[]; readonly edges: readonly CanvasEdge[] },
): boolean {
  return JSON.stringify(graphToDocument(a)) === JSON.stringify(graphToDocument(b));
}
