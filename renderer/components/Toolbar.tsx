import {
  CircleCheck,
  FileDown,
  FilePlus,
  FileUp,
  FolderOpen,
  Network,
  Redo2,
  Rocket,
  Save,
  SaveAll,
  Square,
  Undo2,
  type LucideIcon,
} from 'lucide-react';
import type { ReactNode } from 'react';
import type { MenuCommand } from '../platform.js';
import { dismissNotice, setFlowName, useEditor } from '../store.js';
import { closeFlowList, deploy, openFlow, stop, validate } from '../flowCommands.js';
import { ExportDialog, SaveAsDialog } from './FileDialogs.js';
import { confirmDiscard, runCommand, shortcutLabel } from './shortcuts.js';

const CONNECTION_LABEL = { open: 'Connected', connecting: 'Connecting…', closed: 'Reconnecting…' } as const;

interface ToolProps {
  readonly label: string;
  readonly icon: LucideIcon;
  readonly onClick: () => void;
  readonly disabled?: boolean;
  readonly keys?: string;
  /** Shows the label next to the icon (otherwise it is the tooltip and accessible name only). */
  readonly text?: boolean;
  readonly className?: string;
  readonly children?: ReactNode;
  readonly expanded?: boolean;
}

function Tool({ label, icon: Icon, onClick, disabled, keys, text, className, expanded }: ToolProps) {
  return (
    <button
      type="button"
      className={`tool${text ? ' with-text' : ''}${className ? ` ${className}` : ''}`}
      onClick={onClick}
      disabled={disabled}
      aria-label={label}
      title={keys ? `${label} (${shortcutLabel(keys)})` : label}
      {...(expanded === undefined ? {} : { 'aria-expanded': expanded, 'aria-haspopup': 'menu' as const })}
    >
      <Icon size={16} aria-hidden="true" strokeWidth={2} />
      {text && <span>{label}</span>}
    </button>
  );
}

const run = (command: MenuCommand) => () => runCommand(command);

/** While a flow runs: the brokers that are not connected (their details are in the flow panel). */
function BrokerWarning() {
  const running = useEditor((s) => s.running);
  // The list is selected as stored (a filtered copy per call would re-render forever).
  const brokers = useEditor((s) => s.brokers);
  const down = brokers.filter((b) => b.state !== 'connected');
  if (!running || down.length === 0) return null;
  const text = down.map((b) => `${b.id} ${b.state}${b.lastError ? `: ${b.lastError}` : ''}`).join('; ');
  return (
    <span className="broker-warning" title={text} data-testid="broker-warning">
      {down.length === 1 ? `${down[0]?.id} ${down[0]?.state}` : `${down.length} brokers not connected`}
    </span>
  );
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
  const dialog = useEditor((s) => s.dialog);
  const canUndo = useEditor((s) => s.history.past.length > 0);
  const canRedo = useEditor((s) => s.history.future.length > 0);
  const empty = useEditor((s) => s.nodes.length === 0);
  const offline = connection !== 'open';

  return (
    <header className="toolbar" role="toolbar" aria-label="Flow file and engine">
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
      <div className="toolbar-group" role="group" aria-label="File">
        <Tool label="New" icon={FilePlus} keys="N" onClick={run('file.new')} disabled={busy} />
        <div className="open-menu">
          <Tool
            label="Open"
            icon={FolderOpen}
            keys="O"
            onClick={() => (flowFiles ? closeFlowList() : runCommand('file.open'))}
            disabled={busy || offline}
            expanded={flowFiles !== undefined}
          />
          {flowFiles && (
            <ul
              className="menu"
              role="menu"
              aria-label="Flows in the workspace"
              onKeyDown={(e) => e.key === 'Escape' && closeFlowList()}
            >
              {flowFiles.length === 0 && <li className="muted">No flows in the workspace.</li>}
              {flowFiles.map((f) => (
                <li key={f.name} role="none">
                  <button type="button" role="menuitem" onClick={() => confirmDiscard() && void openFlow(f.name)}>
                    <span>{f.name}</span>
                    <span className="muted">{new Date(f.modifiedAt).toLocaleString()}</span>
                  </button>
                </li>
              ))}
            </ul>
          )}
        </div>
        <Tool label="Save" icon={Save} keys="S" onClick={run('file.save')} disabled={busy || offline} />
        <Tool label="Save as…" icon={SaveAll} keys="Shift+S" onClick={run('file.saveAs')} disabled={busy || offline} />
        <Tool label="Import…" icon={FileUp} keys="I" onClick={run('file.import')} disabled={busy} />
        <Tool
          label="Export for gateway…"
          icon={FileDown}
          keys="E"
          onClick={run('file.export')}
          disabled={busy || offline || empty}
        />
      </div>
      <div className="toolbar-group" role="group" aria-label="Edit">
        <Tool label="Undo" icon={Undo2} keys="Z" onClick={run('edit.undo')} disabled={!canUndo} />
        <Tool label="Redo" icon={Redo2} keys="Shift+Z" onClick={run('edit.redo')} disabled={!canRedo} />
        <Tool label="Layout" icon={Network} keys="Shift+L" onClick={run('view.autoLayout')} disabled={empty} />
      </div>
      <div className="toolbar-group" role="group" aria-label="Engine">
        <Tool label="Validate" icon={CircleCheck} text onClick={() => void validate()} disabled={busy || offline} />
        <Tool
          label="Deploy"
          icon={Rocket}
          text
          className="primary"
          onClick={() => void deploy()}
          disabled={busy || offline}
        />
        <Tool label="Stop" icon={Square} text onClick={() => void stop()} disabled={busy || offline || !running} />
      </div>
      <div className="notice-slot" aria-live="polite" role="status">
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
      <BrokerWarning />
      <span className={`connection ${connection}`} data-testid="connection">
        <span className="dot" aria-hidden="true" />
        {CONNECTION_LABEL[connection]}
      </span>
      {dialog === 'saveAs' && <SaveAsDialog />}
      {dialog === 'export' && <ExportDialog />}
    </header>
  );
}
