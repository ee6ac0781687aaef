import { X } from 'lucide-react';
import { useCallback, useMemo, useState } from 'react';
import {
  buildFields,
  isExpressionField,
  problemsByField,
  withConnectionChoices,
  type FormField,
} from '../graph/schemaForm.js';
import { selectNode, updateNode, useEditor } from '../store.js';
import { validate } from '../flowCommands.js';
import { CategoryIcon } from './CategoryIcon.js';
import { FlowPanel } from './ConnectionsForm.js';
import { ExpressionPreview } from './ExpressionPreview.js';
import { SchemaForm } from './SchemaForm.js';

type ConfigMode = 'form' | 'json';

const FILTER_LABELS = ['truthy: leaves by match', 'falsy: leaves by else'] as const;

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
          <FlowPanel key={draftKey} />
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
  // The node's data only: it keeps its identity while the node is dragged (position changes),
  // so a drag does not re-render the form on every mouse move.
  const data = useEditor((s) => s.nodes.find((n) => n.id === id)?.data);
  const node = data ? { data } : undefined;
  const spec = useEditor((s) => (data ? s.catalogByType[data.type] : undefined));
  const problems = useEditor((s) => s.problems);
  const [name, setName] = useState(node?.data.name ?? '');
  const [config, setConfig] = useState<Record<string, unknown>>(() => node?.data.config ?? {});
  const [text, setText] = useState(() => JSON.stringify(node?.data.config ?? {}, null, 2));
  const [error, setError] = useState<string | undefined>();
  // Form inputs whose text is unusable (bad JSON, not a number): key → message.
  const [invalid, setInvalid] = useState<Readonly<Record<string, string>>>({});
  // Remounted (reset) whenever the JSON editor hands a new draft to the form.
  const [formKey, setFormKey] = useState(0);
  const connectionIds = useEditor((s) => s.meta.connections.map((c) => c.id).join('\n'));
  const fields = useMemo(() => {
    const built = buildFields(spec?.config, config, spec?.secrets ?? []);
    return spec?.usesConnection
      ? withConnectionChoices(built, connectionIds === '' ? [] : connectionIds.split('\n'))
      : built;
  }, [spec, config, connectionIds]);
  const renderExtra = useCallback(
    (field: FormField) =>
      isExpressionField(field) ? (
        <ExpressionPreview
          nodeId={id}
          field={field.key}
          expression={field.value}
          truthyLabels={data?.type === 'filter' ? FILTER_LABELS : undefined}
        />
      ) : null,
    [id, data?.type],
  );
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
        {spec && <CategoryIcon category={spec.category} />}
        <h2>{spec?.title ?? node.data.type}</h2>
        <button
          type="button"
          className="ghost icon"
          onClick={() => selectNode(undefined)}
          title="Close"
          aria-label="Close the node's config"
        >
          <X size={16} aria-hidden="true" />
        </button>
      </div>
      <p className="muted small">
        <code>{id}</code> · {node.data.type}
      </p>
      {spec && <p className="summary">{spec.summary}</p>}
      <div className="field">
        <label htmlFor="node-name">Name</label>
        <input id="node-name" value={name} onChange={(e) => setName(e.target.value)} placeholder={spec?.title} />
      </div>
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
          renderExtra={renderExtra}
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

function ProblemsList() {
  const problems = useEditor((s) => s.problems);
  const validatedOk = useEditor((s) => s.validatedOk);
  return (
    <section className="problems" aria-label="Problems" data-testid="problems" aria-live="polite">
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
