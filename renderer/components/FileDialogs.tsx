import { FileDown, SaveAll, X } from 'lucide-react';
import { useEffect, useId, useRef, useState, type ReactNode } from 'react';
import { createPortal } from 'react-dom';
import type { ExportOutcome } from '../../shared/protocol/protocol.js';
import { fileNameProblem, literalSecretPointers, withJsonExtension } from '../graph/fileWorkflow.js';
import { platform } from '../platform.js';
import { useEditor } from '../store.js';
import { exportDocument, fileExists, openDialog, saveFlow, suggestedFileName } from '../flowCommands.js';

/** A modal dialog: focus moves in, Escape closes, the page behind is inert to the pointer. */
function Dialog({ title, icon, children }: { title: string; icon: ReactNode; children: ReactNode }) {
  const titleId = useId();
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const previous = document.activeElement as HTMLElement | null;
    const first = ref.current?.querySelector<HTMLElement>('input, button:not(.dialog-close), select, textarea');
    first?.focus();
    return () => previous?.focus?.();
  }, []);
  return createPortal(
    <div className="dialog-backdrop" onMouseDown={(e) => e.target === e.currentTarget && openDialog(undefined)}>
      <div
        className="dialog"
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        ref={ref}
        onKeyDown={(e) => {
          if (e.key === 'Escape') {
            e.stopPropagation();
            openDialog(undefined);
          } else if (e.key === 'Tab') {
            // Keep Tab inside the dialog while it is open (aria-modal alone does not).
            const focusable = [
              ...(ref.current?.querySelectorAll<HTMLElement>('input, button, select, textarea, summary') ?? []),
            ].filter((el) => !(el as HTMLButtonElement).disabled);
            const first = focusable[0];
            const last = focusable[focusable.length - 1];
            if (e.shiftKey && document.activeElement === first) {
              e.preventDefault();
              last?.focus();
            } else if (!e.shiftKey && document.activeElement === last) {
              e.preventDefault();
              first?.focus();
            }
          }
        }}
      >
        <div className="dialog-head">
          {icon}
          <h2 id={titleId}>{title}</h2>
          <button
            type="button"
            className="ghost icon dialog-close"
            aria-label="Close"
            title="Close (Escape)"
            onClick={() => openDialog(undefined)}
          >
            <X size={16} aria-hidden="true" />
          </button>
        </div>
        {children}
      </div>
    </div>,
    document.body,
  );
}

/** Save As: a workspace file name, checked as typed; replacing an existing file asks first. */
export function SaveAsDialog() {
  const current = useEditor((s) => s.fileName);
  const busy = useEditor((s) => s.busy);
  const [text, setText] = useState(() => suggestedFileName());
  const [confirmReplace, setConfirmReplace] = useState<string | undefined>();
  const name = withJsonExtension(text);
  const problem = fileNameProblem(name);
  const inputId = useId();
  const errorId = useId();

  const submit = async () => {
    if (problem !== undefined || busy) return;
    if (confirmReplace !== name && name !== current && (await fileExists(name))) {
      setConfirmReplace(name);
      return;
    }
    if (await saveFlow(name)) openDialog(undefined);
  };

  return (
    <Dialog title="Save as" icon={<SaveAll size={18} aria-hidden="true" />}>
      <form
        className="dialog-body"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <label htmlFor={inputId}>File name in the workspace</label>
        <input
          id={inputId}
          value={text}
          onChange={(e) => {
            setText(e.target.value);
            setConfirmReplace(undefined);
          }}
          spellCheck={false}
          autoComplete="off"
          aria-invalid={problem !== undefined}
          aria-describedby={errorId}
          data-testid="save-as-name"
        />
        <p id={errorId} className={problem ? 'field-error' : 'muted small'} role={problem ? 'alert' : undefined}>
          {problem ?? `Saves ${name}: letters, digits, ".", "_" and "-", ending in .json.`}
        </p>
        {confirmReplace === name && (
          <p className="dialog-warning" role="alert" data-testid="save-as-replace">
            {name} already exists in the workspace. Replace it?
          </p>
        )}
        <div className="dialog-actions">
          <button type="button" onClick={() => openDialog(undefined)}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={problem !== undefined || busy}>
            {confirmReplace === name ? 'Replace' : 'Save'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

type ExportState =
  | { readonly kind: 'loading' }
  | { readonly kind: 'ready'; readonly outcome: ExportOutcome }
  | { readonly kind: 'secrets'; readonly pointers: readonly string[] }
  | { readonly kind: 'failed'; readonly message: string; readonly problems: readonly string[] };

/**
 * Export for a gateway (flows.export): the engine checks the flow and refuses literal secrets; the
 * dialog offers to strip them to `${env:...}` references and lists the variables the gateway needs.
 */
export function ExportDialog() {
  const [strip, setStrip] = useState(false);
  const [state, setState] = useState<ExportState>({ kind: 'loading' });
  const [saved, setSaved] = useState<string | undefined>();
  // The literal secrets found, kept while they are stripped so the choice stays visible and undoable.
  const [secretPointers, setSecretPointers] = useState<readonly string[]>([]);
  const fileName = suggestedFileName();

  useEffect(() => {
    let current = true;
    void exportDocument(strip).then((result) => {
      if (!current) return;
      if (result.ok) return setState({ kind: 'ready', outcome: result.outcome });
      const pointers = literalSecretPointers(result.problems);
      if (pointers.length > 0) {
        setSecretPointers(pointers);
        return setState({ kind: 'secrets', pointers });
      }
      setState({
        kind: 'failed',
        message: result.message,
        problems: result.problems.filter((p) => p.severity === 'error').map((p) => `${p.pointer}: ${p.message}`),
      });
    });
    return () => {
      current = false;
    };
  }, [strip]);

  const save = async () => {
    if (state.kind !== 'ready') return;
    const text = `${JSON.stringify(state.outcome.document, null, 2)}\n`;
    try {
      const where = await platform().exportFlow(fileName, text);
      if (where !== null) setSaved(where);
    } catch (error) {
      setState({ kind: 'failed', message: `Export failed: ${(error as Error).message}`, problems: [] });
    }
  };

  return (
    <Dialog title="Export for a gateway" icon={<FileDown size={18} aria-hidden="true" />}>
      <div className="dialog-body" data-testid="export-dialog">
        <p className="muted small">
          The gateway copy is checked by the engine, drops the layout and turns <code>{'${secret:NAME}'}</code> into{' '}
          <code>{'${env:NAME}'}</code>. Run it with <code>topicflow run {fileName}</code>.
        </p>
        {state.kind === 'loading' && <p className="muted">Checking the flow…</p>}
        {secretPointers.length > 0 && (
          <div className="dialog-warning" role="alert" data-testid="export-secrets">
            <p>The flow holds literal secrets, which never leave in a flow file:</p>
            <ul>
              {secretPointers.map((p) => (
                <li key={p}>
                  <code>{p}</code>
                </li>
              ))}
            </ul>
            <label className="form-check">
              <input type="checkbox" checked={strip} onChange={(e) => setStrip(e.target.checked)} />
              <span>Strip them to environment references (set the values on the gateway)</span>
            </label>
          </div>
        )}
        {state.kind === 'failed' && (
          <div className="field-error" role="alert">
            <p>{state.message}</p>
            {state.problems.length > 0 && (
              <ul>
                {state.problems.map((p) => (
                  <li key={p}>{p}</li>
                ))}
              </ul>
            )}
          </div>
        )}
        {state.kind === 'ready' && (
          <>
            {strip && (
              <label className="form-check">
                <input type="checkbox" checked={strip} onChange={(e) => setStrip(e.target.checked)} />
                <span>Literal secrets stripped to environment references</span>
              </label>
            )}
            <section aria-label="Environment the gateway needs" data-testid="export-env">
              <h3>Environment the gateway must set</h3>
              {state.outcome.requiredEnv.length === 0 ? (
                <p className="muted small">None.</p>
              ) : (
                <ul className="env-list">
                  {state.outcome.requiredEnv.map((name) => (
                    <li key={name}>
                      <code>{name}</code>
                    </li>
                  ))}
                </ul>
              )}
            </section>
            {state.outcome.warnings.length > 0 && (
              <ul className="node-problems">
                {state.outcome.warnings.map((w, i) => (
                  <li key={i} className="warning">
                    <code>{w.pointer || '/'}</code> {w.message}
                  </li>
                ))}
              </ul>
            )}
          </>
        )}
        {saved !== undefined && (
          <p className="ok-text" role="status" data-testid="export-done">
            Exported {saved}.
          </p>
        )}
        <div className="dialog-actions">
          <button type="button" onClick={() => openDialog(undefined)}>
            {saved !== undefined ? 'Close' : 'Cancel'}
          </button>
          <button type="button" className="primary" disabled={state.kind !== 'ready'} onClick={() => void save()}>
            Export {fileName}
          </button>
        </div>
      </div>
    </Dialog>
  );
}
