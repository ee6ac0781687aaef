import { useMemo, useState } from 'react';
import type { FlowConnection } from '../../shared/flow/flowDocument.js';
import { buildFields, problemsByField } from '../graph/schemaForm.js';
import { selectNode, setConnections, updateNode, useEditor, validate } from '../store.js';
import { SchemaForm } from './SchemaForm.js';

type ConfigMode = 'form' | 'json';

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
  // Kept here, above the keyed node panel, so the chosen mode survives switching nodes.
  const [mode, setMode] = useState<ConfigMode>('form');
  return (
    <aside className="inspector" aria-label="Inspector">
      <div className="inspector-body">
        {/* Keyed so switching nodes resets the draft instead of syncing it in an effect. */}
        {selectedId ? (
          <NodeInspector key={`${draftKey}:${selectedId}`} id={selectedId} mode={mode} onMode={setMode} />
        ) : (
          <FlowInspector key={draftKey} />
        )}
      </div>
      <ProblemsList />
    </aside>
  );
}

function isConfig(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function NodeInspector({ id, mode, onMode }: { id: string; mode: ConfigMode; onMode: (mode: ConfigMode) => void }) {
  const node = useEditor((s) => s.nodes.find((n) => n.id === id));
  const spec = useEditor((s) => (node ? s.catalogByType[node.data.type] : undefined));
  const problems = useEditor((s) => s.problems);
  const [name, setName] = useState(node?.data.name ?? '');
  const [config, setConfig] = useState<Record<string, unknown>>(() => node?.data.config ?? {});
  const [text, setText] = useState(() => JSON.stringify(node?.data.config ?? {}, null, 2));
  const [error, setError] = useState<string | undefined>();
  // Form inputs whose text is unusable (bad JSON, not a number): key → message.
  const [invalid, setInvalid] = useState<Readonly<Record<string, string>>>({});
  // Remounted (reset) whenever the JSON editor hands a new draft to the form.
  const [formKey, setFormKey] = useState(0);
  const fields = useMemo(() => buildFields(spec?.config, config, spec?.secrets ?? []), [spec, config]);
  const byField = useMemo(() => problemsByField(problems.filter((p) => p.nodeId === id)), [problems, id]);
  if (!node) return null;
  const hasForm = fields.length > 0;
  const showForm = hasForm && mode === 'form';

  const switchMode = (next: ConfigMode) => {
    if (next === mode) return;
    if (next === 'json') {
      setText(JSON.stringify(config, null, 2));
      setError(undefined);
    } else {
      const parsed = parseJson(text);
      if (!parsed.ok) return setError(`Not JSON: ${parsed.error}`);
      if (!isConfig(parsed.value)) return setError('The config must be a JSON object.');
      setError(undefined);
      setInvalid({});
      setConfig(parsed.value);
      setFormKey((k) => k + 1);
    }
    onMode(next);
  };

  const apply = async () => {
    let next = config;
    if (showForm) {
      const first = Object.values(invalid)[0];
      if (first !== undefined) return setError(first);
    } else {
      const parsed = parseJson(text);
      if (!parsed.ok) return setError(`Not JSON: ${parsed.error}`);
      if (!isConfig(parsed.value)) return setError('The config must be a JSON object.');
      next = parsed.value;
      setConfig(next);
      setFormKey((k) => k + 1);
    }
    setError(undefined);
    updateNode(id, name.trim(), next);
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
      <div className="config-head">
        <span>Config</span>
        {hasForm && (
          <div className="segmented" role="group" aria-label="Config editor">
            <button
              type="button"
              aria-pressed={mode === 'form'}
              data-testid="mode-form"
              onClick={() => switchMode('form')}
            >
              Form
            </button>
            <button
              type="button"
              aria-pressed={mode === 'json'}
              data-testid="mode-json"
              onClick={() => switchMode('json')}
            >
              JSON
            </button>
          </div>
        )}
      </div>
      {showForm ? (
        <SchemaForm
          key={formKey}
          fields={fields}
          value={config}
          onChange={setConfig}
          problems={byField}
          onInvalid={(key, message) =>
            setInvalid((current) => {
              const nextInvalid = { ...current };
              if (message === undefined) delete nextInvalid[key];
              else nextInvalid[key] = message;
              return nextInvalid;
            })
          }
        />
      ) : (
        <label className="field grow">
          <textarea
            value={text}
            onChange={(e) => setText(e.target.value)}
            spellCheck={false}
            aria-label="Config JSON"
            data-testid="config-json"
          />
        </label>
      )}
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
