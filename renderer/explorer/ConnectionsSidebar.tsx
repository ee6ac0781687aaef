import { Pencil, Plus, Power, PowerOff, Trash } from 'lucide-react';
import type { ExplorerConnectionInfo } from '../../shared/protocol/explorerProtocol.js';
import {
  editConnection,
  removeConnection,
  selectConnection,
  setConnectionEnabled,
  treeOf,
  useExplorer,
} from './explorerStore.js';
import { compactNumber, formatRate } from './model/payload.js';

const STATE_LABEL: Record<ExplorerConnectionInfo['state'], string> = {
  connecting: 'connecting',
  connected: 'connected',
  reconnecting: 'reconnecting',
  closed: 'disabled',
  failed: 'failed',
};

/** The brokers the explorer watches: state, rate, topics; add, edit, enable/disable, remove. */
export function ConnectionsSidebar() {
  const connections = useExplorer((s) => s.connections);
  const selected = useExplorer((s) => s.selectedConnection);
  const available = useExplorer((s) => s.available);
  // The page's own tree is fresher than the once-a-second connection events: repaint with it.
  useExplorer((s) => s.treeData);

  return (
    <aside className="ex-sidebar" aria-label="Connections">
      <div className="ex-section-head">
        <span>Connections</span>
        <button
          type="button"
          className="ghost icon"
          onClick={() => editConnection('')}
          title="Add a broker"
          aria-label="Add a broker"
          disabled={available !== true}
        >
          <Plus size={16} />
        </button>
      </div>
      {available === false && (
        <p className="ex-empty">The engine does not answer the explorer's calls (yet). It retries on reconnect.</p>
      )}
      {available === true && connections.length === 0 && <p className="ex-empty">No broker yet. Add one with +.</p>}
      <ul className="ex-connections">
        {connections.map((info) => {
          const { connection, enabled } = info.config;
          const active = connection.id === selected;
          return (
            <li
              key={connection.id}
              className={`ex-connection${active ? ' active' : ''}`}
              data-testid="explorer-connection"
            >
              <button type="button" className="ex-connection-main" onClick={() => selectConnection(connection.id)}>
                <span className={`state-dot ${info.state}`} title={info.lastError ?? STATE_LABEL[info.state]} />
                <span className="ex-connection-name">{connection.name ?? connection.id}</span>
                <span className="ex-connection-url" title={info.url}>
                  {info.url}
                </span>
                <span className="ex-connection-stats">
                  <span data-testid="connection-topics">
                    {compactNumber(treeOf(connection.id)?.root.topics ?? info.topics)} topics
                  </span>
                  <span>{formatRate(info.rate) || '0/s'}</span>
                  <span className={`ex-state ${info.state}`}>{STATE_LABEL[info.state]}</span>
                </span>
                {info.lastError && info.state !== 'connected' && (
                  <span className="ex-connection-error" title={info.lastError}>
                    {info.lastError}
                  </span>
                )}
                {info.droppedTopics > 0 && (
                  <span className="ex-connection-error">
                    {compactNumber(info.droppedTopics)} topics over the cap, not tracked
                  </span>
                )}
              </button>
              <span className="ex-connection-actions">
                <button
                  type="button"
                  className="ghost icon"
                  title={enabled ? 'Disconnect (keep the entry)' : 'Connect'}
                  aria-label={enabled ? `Disable ${connection.id}` : `Enable ${connection.id}`}
                  onClick={() => void setConnectionEnabled(info, !enabled)}
                >
                  {enabled ? <Power size={14} /> : <PowerOff size={14} />}
                </button>
                <button
                  type="button"
                  className="ghost icon"
                  title="Edit"
                  aria-label={`Edit ${connection.id}`}
                  onClick={() => editConnection(connection.id)}
                >
                  <Pencil size={14} />
                </button>
                <button
                  type="button"
                  className="ghost icon"
                  title="Remove"
                  aria-label={`Remove ${connection.id}`}
                  onClick={() => {
                    if (window.confirm(`Remove the connection ${connection.id} and forget its topic tree?`)) {
                      void removeConnection(connection.id);
                    }
                  }}
                >
                  <Trash size={14} />
                </button>
              </span>
            </li>
          );
        })}
      </ul>
    </aside>
  );
}
