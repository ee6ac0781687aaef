import { useState } from 'react';
import type { FlowConnection } from '../../shared/flow/flowDocument.js';
import { selectNode, setConnections, updateNode, useEditor, validate } from '../store.js';

function parseJson(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
}

/** The right panel: the selected node's config (or the flow's connections) and the problems list. */
export function Inspector() {
  const selectedId = useEditor((s) => s.selectedId);
  const loads = useEditor((s) => s.loads);
  const restores = useEditor((s) => s.restores);
  const draftKey = `${loads}:${restores}`;
  return (
    <aside className="inspector" aria-label="Inspector">
      <div className="inspector-body">
        {/* Keyed so switching nodes resets the draft instead of syncing it in an effect. */}
        {selectedId ? (
          <NodeInspector key={`${draftKey}:${selectedId}`} id={selectedId} />
        ) : (
          <FlowInspector key={draftKey} />
        )}
      </div>
      <ProblemsList />
    </aside>
  );
}

function NodeInspector({ id }: { id: string }) {
  const node = useEditor((s) => s.nodes.find((n) => n.id === id));
  const spec = useEditor((s) => (node ? s.catalogByType[node.data.type] : undefined));
  const [name, setName] = useState(node?.data.name ?? '');
  const [text, setText] = useState(() => JSON.stringify(node?.data.config ?? {}, null, 2));
  const [error, setError] = useState<string | undefined>();
  if (!node) return null;

  const apply = async () => {
    const parsed = parseJson(text);
    if (!parsed.ok) return setError(`Not JSON: ${parsed.error}`);
    if (typeof parsed.value !== 'object' || parsed.value === null || Array.isArray(parsed.value)) {
      return setError('The config must be a JSON object.');
    }
    setError(undefined);
    updateNode(id, name.trim(), parsed.value as Record<string, unknown>);
    await validate();
  };

  return (
    <div className="panel">
      <div className="panel-head">
        <h2>{spec?.title ?? node.data.type}</h2>
        <button type="button" className="ghost" onClick={() => selectNode(undefined)} title="Close">
          ×
        </button>
      </div>
      <p className="muted small">
        <code>{id}</code> · {node.data.type}
      </p>
      {spec && <p className="summary">{spec.summary}</p>}
      <label className="field">
        <span>Name</span>
        <input value={name} onChange={(e) => setName(e.target.value)} placeholder={spec?.title} />
      </label>
      <label className="field grow">
        <span>Config (JSON)</span>
        <textarea
          value={text}
          onChange={(e) => setText(e.target.value)}
          spellCheck={false}
          aria-label="Config JSON"
          data-testid="config-json"
        />
      </label>
      {error && <p className="field-error">{error}</p>}
      <NodeProblems id={id} />
      <button type="button" className="primary" onClick={() => void apply()}>
        Apply
      </button>
    </div>
  );
}

function NodeProblems({ id }: { id: string }) {
  const problems = useEditor((s) => s.problems);
  const mine = problems.filter((p) => p.nodeId === id);
  if (mine.length === 0) return null;
  return (
    <ul className="node-problems">
      {mine.map((p, i) => (
        <li key={i} className={p.severity}>
          <code>{p.pointer}</code> {p.message}
        </li>
      ))}
    </ul>
  );
}

function FlowInspector() {
  const connections = useEditor((s) => s.meta.connections);
  const [text, setText] = useState(() => JSON.stringify(connections, null, 2));
  const [error, setError] = useState<string | undefined>();
  const apply = async () => {
    const parsed = parseJson(text);
    if (!parsed.ok) return setError(`Not JSON: ${parsed.error}`);
    if (!Array.isArray(parsed.value)) return setError('Connections must be a JSON array.');
    setError(undefined);
    setConnections(parsed.value as FlowConnection[]);
    await validate();
  };
  return (
    <div className="panel">
      <div className="panel-head">
        <h2>Flow</h2>
      </div>
      <p className="muted small">Select a node to edit its config. The flow's broker connections:</p>
      <label className="field grow">
        <span>Connections (JSON)</span>
        <textarea
          value={text}
          onChange={(e) => setText(e.target.value)}
          spellCheck={false}
          aria-label="Connections JSON"
          data-testid="connections-json"
        />
      </label>
      {error && <p className="field-error">{error}</p>}
      <button type="button" className="primary" onClick={() => void apply()}>
        Apply connections
      </button>
    </div>
  );
}

function ProblemsList() {
  const problems = useEditor((s) => s.problems);
  const validatedOk = useEditor((s) => s.validatedOk);
  return (
    <section className="problems" aria-label="Problems" data-testid="problems">
      <h3>
        Problems <span className="count">{problems.length}</span>
        {validatedOk === true && problems.length === 0 && <span className="ok">valid</span>}
      </h3>
      <ul>
        {problems.length === 0 && (
          <li className="muted">{validatedOk === undefined ? 'Not validated yet.' : 'None.'}</li>
        )}
        {problems.map((p, i) => (
          <li key={i} className={p.severity}>
            <button type="button" className="link" onClick={() => p.nodeId && selectNode(p.nodeId)}>
              <code>{p.pointer || '/'}</code>
            </button>
            <span>{p.message}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}
