import { Plus, Trash2 } from 'lucide-react';
import { useMemo, useState } from 'react';
import { ConnectionSchema, type FlowConnection } from '../../shared/flow/flowDocument.js';
import type { ProtocolConnectionStatus } from '../../shared/protocol/protocol.js';
import { uniqueId } from '../graph/flowGraph.js';
import {
  buildFields,
  connectionPointer,
  literalSecretProblems,
  mergeProblems,
  problemsByField,
} from '../graph/schemaForm.js';
import { setConnections, useEditor } from '../store.js';
import { validate } from '../flowCommands.js';
import { SchemaForm } from './SchemaForm.js';

type Mode = 'form' | 'json';
type Draft = Record<string, unknown>;

const STATE_LABEL: Record<ProtocolConnectionStatus['state'], string> = {
  connected: 'connected',
  connecting: 'connecting',
  reconnecting: 'reconnecting',
  closed: 'closed',
};

function idOf(draft: Draft, index: number): string {
  return typeof draft['id'] === 'string' && draft['id'] !== '' ? draft['id'] : `(connection ${index + 1})`;
}

/** The flow panel shown when no node is selected: broker connections, their live state, the last deploy. */
export function FlowPanel() {
  return (
    <div className="panel">
      <div className="panel-head">
        <h2>Flow</h2>
      </div>
      <p className="muted small">Select a node to edit its config.</p>
      <ConnectionsForm />
      <LastDeploy />
    </div>
  );
}

/**
 * The flow's `connections[]`, edited through a form generated from the flow format's
 * ConnectionSchema (the same generator as node configs). Secret fields take references only.
 * Apply puts the drafts into the flow as one undo step and validates.
 */
function ConnectionsForm() {
  const stored = useEditor((s) => s.meta.connections);
  const problems = useEditor((s) => s.problems);
  const brokers = useEditor((s) => s.brokers);
  const [drafts, setDrafts] = useState<Draft[]>(() => stored.map((c) => ({ ...c })));
  const [selected, setSelected] = useState(0);
  const [mode, setMode] = useState<Mode>('form');
  const [text, setText] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [invalid, setInvalid] = useState<Readonly<Record<string, string>>>({});
  const [formKey, setFormKey] = useState(0);
  const index = Math.min(selected, drafts.length - 1);
  const draft = index >= 0 ? drafts[index] : undefined;
  const fields = useMemo(() => buildFields(ConnectionSchema, draft, []), [draft]);
  const fieldProblems = useMemo(
    () =>
      mergeProblems(
        index >= 0 ? problemsByField(problems, connectionPointer(index)) : new Map(),
        literalSecretProblems(fields),
      ),
    [problems, index, fields],
  );
  const dirty = JSON.stringify(drafts) !== JSON.stringify(stored);

  const secretsOk = () => drafts.every((d) => literalSecretProblems(buildFields(ConnectionSchema, d, [])).size === 0);

  const toJson = () => {
    setText(JSON.stringify(drafts, null, 2));
    setMode('json');
    setError(undefined);
  };
  const fromJson = (): Draft[] | undefined => {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      setError(`Not JSON: ${(e as Error).message}`);
      return undefined;
    }
    if (!Array.isArray(value) || !value.every((v) => typeof v === 'object' && v !== null && !Array.isArray(v))) {
      setError('Connections must be a JSON array of objects.');
      return undefined;
    }
    setError(undefined);
    return value as Draft[];
  };

  const apply = async () => {
    let next = drafts;
    if (mode === 'json') {
      const parsed = fromJson();
      if (!parsed) return;
      next = parsed;
      setDrafts(parsed);
      setFormKey((k) => k + 1);
    } else {
      const first = Object.values(invalid)[0];
      if (first !== undefined) return setError(first);
      if (!secretsOk()) return setError('A secret field holds a literal value: use ${env:NAME} or ${secret:NAME}.');
    }
    setError(undefined);
    setConnections(next as unknown as FlowConnection[]);
    await validate();
  };

  const add = () => {
    const id = uniqueId(
      'broker',
      drafts.map((d) => String(d['id'] ?? '')),
    );
    setDrafts([...drafts, { id, url: 'mqtt://127.0.0.1:1883' }]);
    setSelected(drafts.length);
    setFormKey((k) => k + 1);
  };
  const remove = (i: number) => {
    setDrafts(drafts.filter((_, j) => j !== i));
    setSelected(Math.max(0, i - 1));
    setInvalid({});
    setFormKey((k) => k + 1);
  };

  return (
    <section className="connections" aria-labelledby="connections-title" data-testid="connections">
      <div className="config-head">
        <h3 id="connections-title">Broker connections</h3>
        <div className="segmented" role="group" aria-label="Connections editor">
          <button
            type="button"
            aria-pressed={mode === 'form'}
            onClick={() => {
              if (mode === 'form') return;
              const parsed = fromJson();
              if (!parsed) return;
              setDrafts(parsed);
              setSelected(0);
              setFormKey((k) => k + 1);
              setMode('form');
            }}
          >
            Form
          </button>
          <button type="button" aria-pressed={mode === 'json'} onClick={() => mode === 'form' && toJson()}>
            JSON
          </button>
        </div>
      </div>
      {mode === 'json' ? (
        <textarea
          className="json connections-json"
          rows={12}
          value={text}
          onChange={(e) => setText(e.target.value)}
          spellCheck={false}
          aria-label="Connections JSON"
          data-testid="connections-json"
        />
      ) : (
        <>
          <ul className="connection-list" role="listbox" aria-label="Connections">
            {drafts.length === 0 && <li className="muted small">No connections: MQTT nodes need one.</li>}
            {drafts.map((d, i) => {
              const id = idOf(d, i);
              const broker = brokers.find((b) => b.id === d['id']);
              return (
                <li key={i} className={i === index ? 'active' : undefined}>
                  <button
                    type="button"
                    role="option"
                    aria-selected={i === index}
                    className="connection-pick"
                    onClick={() => {
                      setSelected(i);
                      setFormKey((k) => k + 1);
                    }}
                    data-testid={`connection-${id}`}
                  >
                    <span
                      className={`dot state-${broker?.state ?? 'none'}`}
                      aria-hidden="true"
                      title={
                        broker ? `${STATE_LABEL[broker.state]}${broker.lastError ? `: ${broker.lastError}` : ''}` : ''
                      }
                    />
                    <span className="connection-id">{id}</span>
                    <span className="muted small connection-state" data-testid={`broker-state-${id}`}>
                      {broker ? STATE_LABEL[broker.state] : 'not deployed'}
                    </span>
                  </button>
                  <button
                    type="button"
                    className="ghost icon"
                    aria-label={`Remove connection ${id}`}
                    title={`Remove connection ${id}`}
                    onClick={() => remove(i)}
                  >
                    <Trash2 size={14} aria-hidden="true" />
                  </button>
                </li>
              );
            })}
          </ul>
          <button type="button" className="small-button" onClick={add}>
            <Plus size={14} aria-hidden="true" /> Add connection
          </button>
          {draft && (
            <SchemaForm
              key={`${formKey}:${index}`}
              idPrefix={`conn-${index}`}
              fields={fields}
              value={draft}
              onChange={(next) => setDrafts(drafts.map((d, j) => (j === index ? next : d)))}
              problems={fieldProblems}
              onInvalid={(key, message) =>
                setInvalid((current) => {
                  const nextInvalid = { ...current };
                  if (message === undefined) delete nextInvalid[key];
                  else nextInvalid[key] = message;
                  return nextInvalid;
                })
              }
            />
          )}
        </>
      )}
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
      <button type="button" className="primary" onClick={() => void apply()}>
        Apply connections{dirty ? ' *' : ''}
      </button>
    </section>
  );
}

/** What the last deploy did, node by node. */
function LastDeploy() {
  const last = useEditor((s) => s.lastDeploy);
  if (!last) return null;
  const rows: [string, readonly string[]][] = [
    ['Added', last.added],
    ['Changed', last.changed],
    ['Removed', last.removed],
  ];
  return (
    <section className="last-deploy" aria-label="Last deploy" data-testid="last-deploy">
      <h3>
        Last deploy <code className="muted">{last.revision}</code>
      </h3>
      <dl>
        {rows.map(([label, ids]) => (
          <div key={label}>
            <dt>
              {label} <span className="count">{ids.length}</span>
            </dt>
            <dd>{ids.length === 0 ? <span className="muted">—</span> : ids.join(', ')}</dd>
          </div>
        ))}
        <div>
          <dt>
            Unchanged <span className="count">{last.unchanged.length}</span>
          </dt>
          <dd />
        </div>
        {last.failed.length > 0 && (
          <div className="error">
            <dt>
              Failed <span className="count">{last.failed.length}</span>
            </dt>
            <dd>{last.failed.map((f) => `${f.node}: ${f.error}`).join('; ')}</dd>
          </div>
        )}
      </dl>
    </section>
  );
}
