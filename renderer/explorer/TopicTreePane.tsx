import { useVirtualizer } from '@tanstack/react-virtual';
import { ChevronDown, ChevronRight, ChevronsDownUp, Eraser, Search } from 'lucide-react';
import { memo, useEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { clearTree, collapseAll, selectTopic, setQuery, toggleExpanded, useExplorer } from './explorerStore.js';
import { compactNumber, formatRate, relativeTime } from './model/payload.js';
import { flattenRows, searchTree, type TopicNode, type TreeRow } from './model/topicTree.js';

/** Fixed row height: the virtualizer needs no measuring, and a screen holds ~40 rows. */
export const TREE_ROW_HEIGHT = 22;
const INDENT_PX = 14;
/** Typing settles this long before the search runs (one scan of up to 100,000 topics). */
const SEARCH_DEBOUNCE_MS = 120;

interface RowProps {
  readonly row: TreeRow;
  readonly selected: boolean;
  readonly now: number;
  /** Changes when the tree's numbers change, so the memoised row repaints. */
  readonly data: number;
}

const Row = memo(function Row({ row, selected, now }: RowProps) {
  const { node, expanded, hasChildren } = row;
  const stat = node.stat;
  const folder = hasChildren;
  return (
    <div
      className={`ex-row${selected ? ' selected' : ''}${folder ? ' folder' : ''}`}
      style={{ paddingLeft: 4 + node.depth * INDENT_PX }}
      role="treeitem"
      aria-expanded={hasChildren ? expanded : undefined}
      aria-selected={selected}
      aria-level={node.depth + 1}
      data-topic={node.path}
      data-count={node.count}
      onClick={() => selectTopic(node.path)}
    >
      <span
        className="ex-chevron"
        onClick={(e) => {
          if (!hasChildren) return;
          e.stopPropagation();
          toggleExpanded(node.path);
        }}
      >
        {hasChildren && (expanded ? <ChevronDown size={14} /> : <ChevronRight size={14} />)}
      </span>
      <span className="ex-name-cell">
        <span className="ex-name" title={node.path}>
          {node.name === '' ? <span className="muted">(empty)</span> : node.name}
        </span>
        {folder && (
          <span className="ex-topics muted" title={`${node.topics} topics`}>
            {compactNumber(node.topics)}t
          </span>
        )}
      </span>
      <span className="ex-count" title={`${node.count} messages`} data-testid="row-count">
        {compactNumber(node.count)}
      </span>
      <span className="ex-rate">{formatRate(node.rate)}</span>
      <span
        className="ex-retained"
        title={stat?.retained ? 'retained' : folder && node.retained > 0 ? `${node.retained} retained` : ''}
      >
        {stat?.retained ? 'R' : folder && node.retained > 0 ? 'r' : ''}
      </span>
      <span className="ex-preview">{stat ? stat.preview : ''}</span>
      <span className="ex-time">{relativeTime(node.lastAt, now)}</span>
    </div>
  );
});

function useNow(intervalMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}

/** The selected connection's topic tree: search, expand/collapse, virtualized rows. */
export function TopicTreePane() {
  const connection = useExplorer((s) => s.selectedConnection);
  const treeData = useExplorer((s) => s.treeData);
  const treeView = useExplorer((s) => s.treeView);
  const tree = treeView.tree;
  const loading = useExplorer((s) => s.treeLoading);
  const expanded = useExplorer((s) => s.expanded);
  const query = useExplorer((s) => s.query);
  const searchCollapsed = useExplorer((s) => s.searchCollapsed);
  const selectedTopic = useExplorer((s) => s.selectedTopic);
  const [input, setInput] = useState(query);
  const now = useNow(1000);

  useEffect(() => {
    const timer = setTimeout(() => setQuery(input.trim()), SEARCH_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [input]);

  const search = useMemo(
    () => (treeView.tree && query !== '' ? searchTree(treeView.tree, query) : undefined),
    // `treeView` is a new object when topics are added (which may match) or the tree is replaced.
    [treeView, query],
  );
  const rows = useMemo(
    () =>
      treeView.tree
        ? flattenRows(treeView.tree, expanded, search ? { result: search, collapsed: searchCollapsed } : undefined)
        : [],
    [treeView, expanded, search, searchCollapsed],
  );

  // For the bench (bench/explorerPageBench.ts): when the rows of a new tree, or of a search, are
  // committed to the DOM.
  useEffect(() => {
    if (treeView.tree) performance.mark('explorer:tree-rendered');
  }, [treeView]);
  useEffect(() => {
    if (search) performance.mark('explorer:search-rendered');
  }, [search]);

  const scroller = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => TREE_ROW_HEIGHT,
    overscan: 12,
  });

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const index = rows.findIndex((r) => r.node.path === selectedTopic);
    const move = (to: number) => {
      const row = rows[Math.max(0, Math.min(rows.length - 1, to))];
      if (!row) return;
      selectTopic(row.node.path);
      virtualizer.scrollToIndex(rows.indexOf(row));
    };
    const current = rows[index];
    if (event.key === 'ArrowDown') move(index + 1);
    else if (event.key === 'ArrowUp') move(index - 1);
    else if (event.key === 'ArrowRight' && current?.hasChildren && !current.expanded) toggleExpanded(current.node.path);
    else if (event.key === 'ArrowLeft' && current?.hasChildren && current.expanded) toggleExpanded(current.node.path);
    else if (event.key === 'ArrowLeft' && current?.node.parent && current.node.parent.depth >= 0) {
      move(rows.findIndex((r) => r.node === (current.node.parent as TopicNode)));
    } else return;
    event.preventDefault();
  };

  const root = tree?.root;
  return (
    <section className="ex-tree" aria-label="Topic tree">
      <div className="ex-tree-tools">
        <label className="ex-search">
          <Search size={14} />
          <input
            value={input}
            onChange={(e) => setInput(e.target.value)}
            placeholder="Filter topics"
            aria-label="Filter topics"
            spellCheck={false}
          />
        </label>
        <span
          className="ex-tree-summary muted"
          data-testid="tree-summary"
          data-topics={root?.topics ?? 0}
          data-count={root?.count ?? 0}
          data-matches={search?.matches}
        >
          {search
            ? `${compactNumber(search.matches)} of ${compactNumber(root?.topics ?? 0)} topics`
            : `${compactNumber(root?.topics ?? 0)} topics · ${compactNumber(root?.count ?? 0)} msgs · ${formatRate(root?.rate ?? 0) || '0/s'}`}
        </span>
        <button
          type="button"
          className="ghost icon"
          title="Collapse all"
          aria-label="Collapse all"
          onClick={collapseAll}
        >
          <ChevronsDownUp size={15} />
        </button>
        <button
          type="button"
          className="ghost icon"
          title="Clear the tree (counts and histories; the broker keeps its retained messages)"
          aria-label="Clear the tree"
          onClick={() => void clearTree()}
          disabled={connection === undefined}
        >
          <Eraser size={15} />
        </button>
      </div>
      <div className="ex-tree-head">
        <span className="ex-name-cell">Topic</span>
        <span className="ex-count">Msgs</span>
        <span className="ex-rate">Rate</span>
        <span className="ex-retained" title="Retained">
          R
        </span>
        <span className="ex-preview">Last payload</span>
        <span className="ex-time">Received</span>
      </div>
      <div
        className="ex-tree-rows"
        ref={scroller}
        role="tree"
        tabIndex={0}
        onKeyDown={onKeyDown}
        aria-busy={loading}
        data-testid="topic-tree"
      >
        {connection === undefined && <p className="ex-empty">Pick or add a broker on the left.</p>}
        {connection !== undefined && rows.length === 0 && !loading && (
          <p className="ex-empty">{query ? `No topic contains "${query}".` : 'No message received yet.'}</p>
        )}
        <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
          {virtualizer.getVirtualItems().map((item) => {
            const row = rows[item.index] as TreeRow;
            return (
              <div
                key={row.node.path}
                className="ex-row-slot"
                style={{ transform: `translateY(${item.start}px)`, height: TREE_ROW_HEIGHT }}
              >
                <Row row={row} selected={row.node.path === selectedTopic} now={now} data={treeData} />
              </div>
            );
          })}
        </div>
      </div>
    </section>
  );
}
