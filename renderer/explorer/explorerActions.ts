import { filterFor } from './model/flowPlan.js';
import { sameSeries, MAX_SERIES, type SeriesKey } from './model/chartData.js';
import { findNode, naturalCompare, topicsUnder } from './model/topicTree.js';
import {
  call,
  errorText,
  notify,
  refreshRecordings,
  treeOf,
  useExplorer,
  RECENT_PUBLISHES_MAX,
  type PublishDraft,
} from './explorerStore.js';

/**
 * The explorer's actions beyond the tree: publish and retained messages, recording and export,
 * the chart's series, and the "Create flow" dialog. State lives in the explorer store.
 */

const set = useExplorer.setState;
const get = useExplorer.getState;

// ---- publish and retained --------------------------------------------------------------------

export async function publish(draft: PublishDraft): Promise<boolean> {
  const connection = get().selectedConnection;
  if (connection === undefined) return false;
  try {
    await call().call('explorer.publish', {
      connection,
      topic: draft.topic,
      payload: draft.payload,
      encoding: 'utf8',
      qos: draft.qos,
      retain: draft.retain,
      ...(draft.properties ? { properties: draft.properties } : {}),
    });
    const recent = [draft, ...get().recentPublishes.filter((p) => JSON.stringify(p) !== JSON.stringify(draft))];
    set({ recentPublishes: recent.slice(0, RECENT_PUBLISHES_MAX) });
    notify('info', `Published to ${draft.topic}.`);
    return true;
  } catch (error) {
    notify('error', `Publishing to ${draft.topic}: ${errorText(error)}`);
    return false;
  }
}

export function reusePublish(draft: PublishDraft): void {
  set({ publishDraft: draft, publishLoads: get().publishLoads + 1, detailTab: 'publish' });
}

/** Asks before clearing a subtree: lists the topics the tree saw retained under `topic`. */
export function askClearRetained(topic: string): void {
  const tree = treeOf(get().selectedConnection);
  const node = tree ? findNode(tree, topic) : undefined;
  const topics = node ? topicsUnder(node).filter((n) => n.stat?.retained) : [];
  set({ retainedConfirm: { topic, topics: topics.map((n) => n.path).sort(naturalCompare) } });
}

export function cancelClearRetained(): void {
  set({ retainedConfirm: undefined });
}

export async function clearRetained(topic: string, subtree: boolean): Promise<void> {
  const connection = get().selectedConnection;
  if (connection === undefined) return;
  set({ retainedConfirm: undefined });
  try {
    const result = await call().call('explorer.retained.clear', { connection, topic, subtree });
    notify(
      'info',
      result.cleared.length === 0
        ? `No retained message under ${topic}.`
        : `Cleared ${result.cleared.length} retained message${result.cleared.length === 1 ? '' : 's'}.`,
    );
  } catch (error) {
    notify('error', `Clearing retained messages of ${topic}: ${errorText(error)}`);
  }
}

// ---- recording -------------------------------------------------------------------------------

export async function startRecording(filters: readonly string[], maxAgeMs: number, maxRows: number): Promise<void> {
  const connection = get().selectedConnection;
  if (connection === undefined) return;
  try {
    await call().call('explorer.recording.start', { connection, filters, maxAgeMs, maxRows });
    notify('info', `Recording ${filters.join(', ')}.`);
    await refreshRecordings();
  } catch (error) {
    notify('error', `Recording: ${errorText(error)}`);
  }
}

export async function stopRecording(): Promise<void> {
  const connection = get().selectedConnection;
  if (connection === undefined) return;
  try {
    const info = await call().call('explorer.recording.stop', { connection });
    notify('info', `Recording stopped: ${info.rows} rows kept.`);
    await refreshRecordings();
  } catch (error) {
    notify('error', `Recording: ${errorText(error)}`);
  }
}

/** Recorded messages as a file: the text from the engine, downloaded as a blob. */
export async function exportRecording(format: 'jsonl' | 'csv', filter: string | undefined): Promise<void> {
  const connection = get().selectedConnection;
  if (connection === undefined) return;
  try {
    const result = await call().call('explorer.recording.export', {
      connection,
      format,
      ...(filter ? { filter } : {}),
    });
    const type = format === 'csv' ? 'text/csv' : 'application/x-ndjson';
    const url = URL.createObjectURL(new Blob([result.text], { type }));
    const link = document.createElement('a');
    link.href = url;
    link.download = `${connection}-recording.${format}`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    notify(
      result.truncated ? 'error' : 'info',
      `Exported ${result.rows} rows as ${format.toUpperCase()}${result.truncated ? ' (truncated: more rows exist; narrow the filter)' : ''}.`,
    );
  } catch (error) {
    notify('error', `Export: ${errorText(error)}`);
  }
}

// ---- chart -----------------------------------------------------------------------------------

export function addSeries(key: SeriesKey): void {
  const series = get().series;
  if (series.some((s) => sameSeries(s, key))) return;
  if (series.length >= MAX_SERIES) {
    notify('error', `The chart shows at most ${MAX_SERIES} series; remove one first.`);
    return;
  }
  set({ series: [...series, key], detailTab: 'chart' });
}

export function removeSeries(key: SeriesKey): void {
  set({ series: get().series.filter((s) => !sameSeries(s, key)) });
}

/** One page of a series: used by the chart to backfill and then tail. */
export function fetchSeries(topic: string, field: string | undefined, sinceSeq: number | undefined) {
  const connection = get().selectedConnection;
  if (connection === undefined) return Promise.reject(new Error('no connection selected'));
  return call().call('explorer.series', {
    connection,
    topic,
    ...(field ? { field } : {}),
    ...(sinceSeq !== undefined ? { sinceSeq } : {}),
    limit: 2000,
  });
}

// ---- from topic to flow ----------------------------------------------------------------------

export async function openFlowDialog(topic: string, subtree: boolean): Promise<void> {
  const connection = get().selectedConnection;
  if (connection === undefined) return;
  set({ flowDialog: { topic, subtree, inferred: undefined, error: undefined } });
  const filter = filterFor(topic, subtree);
  try {
    const inferred = await call().call('explorer.inferSchema', { connection, filter });
    if (get().flowDialog?.topic === topic) set({ flowDialog: { topic, subtree, inferred, error: undefined } });
  } catch (error) {
    if (get().flowDialog?.topic === topic) {
      set({ flowDialog: { topic, subtree, inferred: undefined, error: errorText(error) } });
    }
  }
}

export function closeFlowDialog(): void {
  set({ flowDialog: undefined });
}
