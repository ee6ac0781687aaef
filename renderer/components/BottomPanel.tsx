import { useVirtualizer } from '@tanstack/react-virtual';
import { useMemo, useRef, type PointerEvent as ReactPointerEvent } from 'react';
import type { DebugMessage } from '../../shared/protocol/protocol.js';
import {
  clearDebug,
  openTable,
  purgeSelected,
  refreshLetters,
  refreshTables,
  replaySelected,
  selectAllLetters,
  setDebugNode,
  setDebugPaused,
  setHeight,
  setTab,
  toggleCollapsed,
  toggleLetter,
  usePanel,
  STORE_PAGE_SIZE,
  type PanelTab,
} from '../panelStore.js';

const TABS: readonly { id: PanelTab; label: string }[] = [
  { id: 'debug', label: 'Debug' },
  { id: 'deadLetters', label: 'Dead letters' },
  { id: 'store', label: 'Store' },
];
const ROW_HEIGHT = 22;

function time(at: number): string {
  const d = new Date(at);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

function dateTime(at: number): string {
  const d = new Date(at);
  return `${d.toLocaleDateString()} ${time(at)}`;
}

/** The panel under the canvas: debug messages, dead letters and the store's tables. */
export function BottomPanel() {
  const tab = usePanel((s) => s.tab);
  const collapsed = usePanel((s) => s.collapsed);
  const debugCount = usePanel((s) => s.debug.length);
  const lettersTotal = usePanel((s) => s.lettersTotal);

  const startResize = (event: ReactPointerEvent<HTMLDivElement>) => {
    if (collapsed) return;
    event.preventDefault();
    const startY = event.clientY;
    const startHeight = usePanel.getState().height;
    const move = (e: PointerEvent) => setHeight(startHeight + startY - e.clientY);
    const up = () => {
      window.removeEventListener('pointermove', move);
      window.removeEventListener('pointerup', up);
    };
    window.addEventListener('pointermove', move);
    window.addEventListener('pointerup', up);
  };

  return (
    <section className={`bottom-panel${collapsed ? ' collapsed' : ''}`} aria-label="Bottom panel">
      <div
        className="panel-resizer"
        onPointerDown={startResize}
        role="separator"
        aria-orientation="horizontal"
        title="Drag to resize"
      />
      <div className="panel-tabs">
        <div className="panel-tablist" role="tablist" aria-label="Bottom panel">
          {TABS.map((t) => (
            <button
              key={t.id}
              type="button"
              role="tab"
              id={`panel-tab-${t.id}`}
              aria-controls="panel-body"
              aria-selected={tab === t.id && !collapsed}
              className={`panel-tab${tab === t.id ? ' active' : ''}`}
              onClick={() => setTab(t.id)}
            >
              {t.label}
              {t.id === 'debug' && debugCount > 0 && <span className="count">{debugCount}</span>}
              {t.id === 'deadLetters' && lettersTotal > 0 && <span className="count">{lettersTotal}</span>}
            </button>
          ))}
        </div>
        <span className="spacer" />
        <button
          type="button"
          className="ghost"
          onClick={toggleCollapsed}
          title={collapsed ? 'Expand the panel' : 'Collapse the panel'}
          aria-label={collapsed ? 'Expand the panel' : 'Collapse the panel'}
        >
          {collapsed ? '▴' : '▾'}
        </button>
      </div>
      {!collapsed && (
        <div className="panel-body" role="tabpanel" id="panel-body" aria-labelledby={`panel-tab-${tab}`}>
          {tab === 'debug' && <DebugTab />}
          {tab === 'deadLetters' && <DeadLettersTab />}
          {tab === 'store' && <StoreTab />}
        </div>
      )}
    </section>
  );
}

// ---- debug -----------------------------------------------------------------------------------

function DebugTab() {
  const messages = usePanel((s) => s.debug);
  const paused = usePanel((s) => s.debugPaused);
  const dropped = usePanel((s) => s.debugDropped);
  const skipped = usePanel((s) => s.debugSkipped);
  const evicted = usePanel((s) => s.debugEvicted);
  const node = usePanel((s) => s.debugNode);
  const nodes = useMemo(() => [...new Set(messages.map((m) => m.node))].sort(), [messages]);
  // Newest first, so new messages appear at the top without scrolling.
  const shown = useMemo(() => {
    const filtered = node === '' ? messages : messages.filter((m) => m.node === node);
    return [...filtered].reverse();
  }, [messages, node]);

  return (
    <div className="tab debug-tab">
      <div className="tab-bar">
        <button type="button" onClick={() => setDebugPaused(!paused)} aria-pressed={paused}>
          {paused ? 'Resume' : 'Pause'}
        </button>
        <select value={node} onChange={(e) => setDebugNode(e.target.value)} aria-label="Filter by node">
          <option value="">All nodes</option>
          {node !== '' && !nodes.includes(node) && <option value={node}>{node}</option>}
          {nodes.map((n) => (
            <option key={n} value={n}>
              {n}
            </option>
          ))}
        </select>
        <button type="button" onClick={clearDebug}>
          Clear
        </button>
        <span className="muted small" data-testid="debug-counts">
          {shown.length} shown · {messages.length} kept (last 1,000)
          {dropped > 0 && <span className="warn"> · {dropped} dropped by the rate limit</span>}
          {evicted > 0 && <span> · {evicted} rolled off</span>}
          {skipped > 0 && <span> · {skipped} skipped while paused</span>}
        </span>
      </div>
      {shown.length === 0 ? (
        <p className="empty muted">
          {messages.length === 0
            ? 'No debug messages yet: add a debug node to the flow and deploy.'
            : 'No messages from this node.'}
        </p>
      ) : (
        <WindowedList items={shown} />
      )}
    </div>
  );
}

/** Renders only the rows in view (plus a few), at a fixed row height (@tanstack/react-virtual). */
function WindowedList({ items }: { items: readonly DebugMessage[] }) {
  const ref = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: items.length,
    getScrollElement: () => ref.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 5,
  });
  return (
    <div className="windowed" ref={ref} role="log" aria-label="Debug messages, newest first">
      <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
        {virtualizer.getVirtualItems().map((row) => {
          const m = items[row.index] as DebugMessage;
          return (
            <div className="debug-row" key={row.key} style={{ top: row.start }} data-testid="debug-row">
              <span className="c-time">{time(m.at)}</span>
              <span className="c-node" title={m.node}>
                {m.node}
              </span>
              <span className="c-topic" title={m.topic}>
                {m.topic}
              </span>
              <code className="c-preview" title={m.preview}>
                {m.preview}
                {m.truncated && <span className="muted"> …</span>}
              </code>
            </div>
          );
        })}
      </div>
    </div>
  );
}

// ---- dead letters ----------------------------------------------------------------------------

function DeadLettersTab() {
  const letters = usePanel((s) => s.letters);
  const total = usePanel((s) => s.lettersTotal);
  const selected = usePanel((s) => s.lettersSelected);
  const message = usePanel((s) => s.lettersMessage);
  const allSelected = letters.length > 0 && letters.every((d) => selected.has(d.id));

  return (
    <div className="tab">
      <div className="tab-bar">
        <button type="button" onClick={() => void refreshLetters()}>
          Refresh
        </button>
        <button type="button" onClick={() => void replaySelected()} disabled={selected.size === 0}>
          Replay selected
        </button>
        <button
          type="button"
          className="danger"
          onClick={() => window.confirm(`Delete ${selected.size} dead letter(s)?`) && void purgeSelected()}
          disabled={selected.size === 0}
        >
          Purge selected
        </button>
        <span className="muted small">
          {letters.length < total ? `newest ${letters.length} of ${total}` : `${total} dead letters`}
          {selected.size > 0 && ` · ${selected.size} selected`}
        </span>
        {message && (
          <span className="small tab-message" data-testid="letters-message" title={message}>
            {message}
          </span>
        )}
      </div>
      {letters.length === 0 ? (
        <p className="empty muted">No dead letters.</p>
      ) : (
        <div className="grid-scroll">
          <table className="grid" data-testid="dead-letters">
            <thead>
              <tr>
                <th className="c-check">
                  <input
                    type="checkbox"
                    checked={allSelected}
                    onChange={(e) => selectAllLetters(e.target.checked)}
                    aria-label="Select all"
                  />
                </th>
                <th>#</th>
                <th>Time</th>
                <th>Node</th>
                <th>Topic</th>
                <th className="num">Size</th>
                <th>Reason</th>
                <th>Payload</th>
                <th>Replayed</th>
              </tr>
            </thead>
            <tbody>
              {letters.map((d) => (
                <tr key={d.id} className={selected.has(d.id) ? 'selected' : undefined}>
                  <td className="c-check">
                    <input
                      type="checkbox"
                      checked={selected.has(d.id)}
                      onChange={() => toggleLetter(d.id)}
                      aria-label={`Select dead letter ${d.id}`}
                    />
                  </td>
                  <td className="num muted">{d.id}</td>
                  <td className="nowrap">{dateTime(d.at)}</td>
                  <td>{d.node}</td>
                  <td title={d.topic ?? ''}>{d.topic ?? <span className="muted">—</span>}</td>
                  <td className="num">{d.payloadSize ?? '—'}</td>
                  <td className="reason" title={d.reason}>
                    {d.reason}
                  </td>
                  <td title={d.preview ?? ''}>
                    <code>{d.preview ?? ''}</code>
                  </td>
                  <td className="nowrap">{d.replayedAt === null ? '' : time(d.replayedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

// ---- store -----------------------------------------------------------------------------------

function cell(value: unknown) {
  if (value === null || value === undefined) return <span className="muted">NULL</span>;
  if (typeof value === 'object' && 'base64' in value) {
    const bytes = Math.floor((String((value as { base64: string }).base64).length * 3) / 4);
    return <span className="muted">{`<blob ~${bytes} B>`}</span>;
  }
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function StoreTab() {
  const tables = usePanel((s) => s.tables);
  const table = usePanel((s) => s.table);
  const page = usePanel((s) => s.page);
  const message = usePanel((s) => s.storeMessage);
  const shown = page && page.table === table ? page : undefined;
  const offset = shown?.offset ?? 0;

  return (
    <div className="tab store-tab">
      <ul className="table-list" aria-label="Tables">
        {tables.length === 0 && <li className="muted">No tables yet.</li>}
        {tables.map((t) => (
          <li key={t.name}>
            <button
              type="button"
              className={t.name === table ? 'active' : undefined}
              onClick={() => void openTable(t.name)}
              title={t.columns.join(', ')}
            >
              <span>{t.name}</span>
              <span className="muted">{t.rows}</span>
            </button>
          </li>
        ))}
      </ul>
      <div className="store-rows">
        <div className="tab-bar">
          <button type="button" onClick={() => void refreshTables()}>
            Refresh
          </button>
          <button
            type="button"
            onClick={() => table && void openTable(table, Math.max(0, offset - STORE_PAGE_SIZE))}
            disabled={!shown || offset === 0}
          >
            ‹ Prev
          </button>
          <button
            type="button"
            onClick={() => table && void openTable(table, offset + STORE_PAGE_SIZE)}
            disabled={!shown || offset + STORE_PAGE_SIZE >= shown.total}
          >
            Next ›
          </button>
          <span className="muted small" data-testid="store-range">
            {shown
              ? shown.total === 0
                ? `${shown.table}: empty`
                : `${shown.table}: rows ${offset + 1}–${offset + shown.rows.length} of ${shown.total}`
              : ''}
          </span>
          {message && <span className="small tab-message">{message}</span>}
        </div>
        {shown && (
          <div className="grid-scroll">
            <table className="grid" data-testid="store-grid">
              <thead>
                <tr>
                  <th className="num">#</th>
                  {shown.columns.map((c) => (
                    <th key={c}>{c}</th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {shown.rows.map((row, i) => (
                  <tr key={offset + i}>
                    <td className="num muted">{offset + i + 1}</td>
                    {row.map((v, j) => (
                      <td key={j}>{cell(v)}</td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
    </div>
  );
}
