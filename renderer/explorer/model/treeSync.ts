import type { ExplorerConnectionInfo, ExplorerEvents } from '../../../shared/protocol/explorerProtocol.js';
import { applyStats, createTree, type TopicTree } from './topicTree.js';

type Delta = ExplorerEvents['explorer.delta'];

/**
 * One connection's tree and where it stands in the engine's stream: a snapshot, then the deltas
 * that follow it. Pure (no engine calls): the store asks for snapshots when this says so.
 */
export interface TreeSync {
  tree: TopicTree;
  /** The engine's message seq of the snapshot or last delta applied; -1 before the first snapshot. */
  seq: number;
  /** A snapshot is on its way: deltas wait in `buffered`. */
  loading: boolean;
  buffered: Delta[];
  /** Deltas were lost (the buffer overflowed): the next check takes a new snapshot. */
  resync: boolean;
}

/** Deltas kept while a snapshot loads, at most (past it the tree is re-snapshotted anyway). */
export const MAX_BUFFERED_DELTAS = 200;

export function createSync(): TreeSync {
  return { tree: createTree(), seq: -1, loading: false, buffered: [], resync: false };
}

export function startSnapshot(sync: TreeSync): void {
  sync.loading = true;
  sync.buffered = [];
  sync.resync = false;
}

/**
 * A delta carries the newest absolute aggregates of the topics that changed, stamped with the
 * connection's message seq when it was taken (several deltas share one when `more` splits them).
 * Applying one twice changes nothing, so any delta not older than the tree is applied; an older
 * one (taken before the snapshot) is skipped.
 */
export function applyDelta(sync: TreeSync, delta: Delta): boolean {
  if (delta.seq < sync.seq) return false;
  applyStats(sync.tree, delta.topics);
  sync.seq = delta.seq;
  return true;
}

/** A delta as it arrives: buffered while a snapshot loads, else applied (or skipped as stale). */
export function receiveDelta(sync: TreeSync, delta: Delta): 'applied' | 'stale' | 'buffered' | 'lost' {
  if (sync.loading) {
    if (sync.buffered.length < MAX_BUFFERED_DELTAS) {
      sync.buffered.push(delta);
      return 'buffered';
    }
    sync.resync = true;
    return 'lost';
  }
  return applyDelta(sync, delta) ? 'applied' : 'stale';
}

/** Installs the tree built from a snapshot taken at `seq`, and applies the deltas that waited. */
export function finishSnapshot(sync: TreeSync, seq: number, tree: TopicTree): void {
  sync.tree = tree;
  sync.seq = seq;
  const buffered = sync.buffered;
  sync.buffered = [];
  sync.loading = false;
  for (const delta of buffered) applyDelta(sync, delta);
}

/**
 * Whether the tree must start over from a snapshot. Deltas carry no sequence of their own, so a
 * lost one (the server drops events to a page too slow to read them, or another page cleared the
 * tree) shows as counts that disagree with the connection's: fewer messages in the tree than the
 * engine had counted a second ago, when every delta for them has long been sent; or more than it
 * counts now. Topics over the engine's cap are counted as messages but never sent, so the first
 * check holds only while none were dropped.
 */
export function needsSnapshot(
  sync: TreeSync,
  info: ExplorerConnectionInfo,
  previous: ExplorerConnectionInfo | undefined,
): boolean {
  if (sync.loading || sync.seq < 0) return false;
  if (sync.resync) return true;
  const count = sync.tree.root.count;
  const behind = previous !== undefined && info.droppedTopics === 0 && count < previous.messages;
  return behind || count > info.messages;
}
