import {
  closeFlowList,
  deploy,
  dismissNotice,
  layoutFlow,
  listFlows,
  newFlow,
  openFlow,
  redo,
  setFlowName,
  stop,
  undo,
  useEditor,
  validate,
} from '../store.js';
import { requestSave, shortcutLabel } from './shortcuts.js';

const CONNECTION_LABEL = { open: 'Connected', connecting: 'Connecting…', closed: 'Reconnecting…' } as const;

function confirmDiscard(): boolean {
  return !useEditor.getState().dirty || window.confirm('Discard the unsaved changes?');
}

/** Flow name, file actions, validate/deploy/stop, the dirty and connection indicators, notices. */
export function Toolbar() {
  const name = useEditor((s) => s.meta.name);
  const fileName = useEditor((s) => s.fileName);
  const dirty = useEditor((s) => s.dirty);
  const busy = useEditor((s) => s.busy);
  const connection = useEditor((s) => s.connection);
  const running = useEditor((s) => s.running);
  const notice = useEditor((s) => s.notice);
  const flowFiles = useEditor((s) => s.flowFiles);
  const canUndo = useEditor((s) => s.history.past.length > 0);
  const canRedo = useEditor((s) => s.history.future.length > 0);
  const empty = useEditor((s) => s.nodes.length === 0);
  const offline = connection !== 'open';

  return (
    <header className="toolbar">
      <span className="brand">TopicFlow</span>
      <input
        className="flow-name"
        value={name}
        onChange={(e) => setFlowName(e.target.value)}
        aria-label="Flow name"
        spellCheck={false}
      />
      <span className="file-name" title="Workspace file">
        {fileName ?? 'not saved yet'}
        <span className={`dirty${dirty ? ' on' : ''}`} title={dirty ? 'Unsaved changes' : 'Saved'} data-testid="dirty">
          {dirty ? '● unsaved' : ''}
        </span>
      </span>
      <div className="toolbar-group">
        <button type="button" onClick={() => confirmDiscard() && newFlow()} disabled={busy}>
          New
        </button>
        <div className="open-menu">
          <button
            type="button"
            onClick={() => (flowFiles ? closeFlowList() : void listFlows())}
            disabled={busy || offline}
          >
            Open ▾
          </button>
          {flowFiles && (
            <ul className="menu" role="menu" aria-label="Flows in the workspace">
              {flowFiles.length === 0 && <li className="muted">No flows in the workspace.</li>}
              {flowFiles.map((f) => (
                <li key={f.name}>
                  <button type="button" role="menuitem" onClick={() => confirmDiscard() && void openFlow(f.name)}>
                    <span>{f.name}</span>
                    <span className="muted">{new Date(f.modifiedAt).toLocaleString()}</span>
                  </button>
                </li>
              ))}
            </ul>
          )}
        </div>
        <button
          type="button"
          onClick={() => void requestSave()}
          disabled={busy || offline}
          title={`Save (${shortcutLabel('S')})`}
        >
          Save
        </button>
      </div>
      <div className="toolbar-group">
        <button type="button" onClick={undo} disabled={!canUndo} title={`Undo (${shortcutLabel('Z')})`}>
          Undo
        </button>
        <button
          type="button"
          onClick={redo}
          disabled={!canRedo}
          title={`Redo (${shortcutLabel('Shift+Z')} or ${shortcutLabel('Y')})`}
        >
          Redo
        </button>
        <button
          type="button"
          onClick={() => void layoutFlow()}
          disabled={empty}
          title={`Lay the flow out left to right (${shortcutLabel('Shift+L')})`}
        >
          Layout
        </button>
      </div>
      <div className="toolbar-group">
        <button type="button" onClick={() => void validate()} disabled={busy || offline}>
          Validate
        </button>
        <button type="button" className="primary" onClick={() => void deploy()} disabled={busy || offline}>
          Deploy
        </button>
        <button type="button" onClick={() => void stop()} disabled={busy || offline || !running}>
          Stop
        </button>
      </div>
      <div className="notice-slot">
        {notice && (
          <button
            type="button"
            className={`notice ${notice.kind}`}
            onClick={dismissNotice}
            title={`${notice.text} (click to dismiss)`}
            data-testid="notice"
          >
            {notice.text}
          </button>
        )}
      </div>
      <span className={`engine-state${running ? ' on' : ''}`}>{running ? 'Running' : 'Stopped'}</span>
      <span className={`connection ${connection}`} data-testid="connection">
        <span className="dot" />
        {CONNECTION_LABEL[connection]}
      </span>
    </header>
  );
}
