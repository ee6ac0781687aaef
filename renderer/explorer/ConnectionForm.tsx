import { X } from 'lucide-react';
import { useState, type ReactNode } from 'react';
import {
  draftFromConfig,
  draftToConfig,
  emptyDraft,
  type ConnectionDraft,
  type DraftErrors,
  type DraftField,
} from './model/connectionDraft.js';
import { editConnection, saveConnection, useExplorer } from './explorerStore.js';

function Field({
  label,
  error,
  hint,
  children,
}: {
  label: string;
  error: string | undefined;
  hint?: string;
  children: ReactNode;
}) {
  return (
    <label className={`ex-field${error ? ' invalid' : ''}`}>
      <span className="ex-field-label">{label}</span>
      {children}
      {error ? (
        <span className="ex-field-error" role="alert">
          {error}
        </span>
      ) : (
        hint && <span className="ex-field-hint">{hint}</span>
      )}
    </label>
  );
}

/** Add (`id` '') or edit a broker: the fields of a flow connection, plus subscription filters. */
export function ConnectionForm({ id }: { id: string }) {
  const connections = useExplorer((s) => s.connections);
  const existing = connections.find((c) => c.config.connection.id === id);
  const [draft, setDraft] = useState<ConnectionDraft>(() =>
    existing ? draftFromConfig(existing.config) : emptyDraft(connections.map((c) => c.config.connection.id)),
  );
  const [errors, setErrors] = useState<DraftErrors>({});
  const [saving, setSaving] = useState(false);
  const change = <K extends DraftField>(field: K, value: ConnectionDraft[K]) => {
    setDraft((d) => ({ ...d, [field]: value }));
    if (errors[field]) setErrors((e) => ({ ...e, [field]: undefined }));
  };
  const text = (field: DraftField & keyof ConnectionDraft, props: { placeholder?: string; type?: string } = {}) => (
    <input
      value={String(draft[field])}
      onChange={(e) => change(field, e.target.value as never)}
      spellCheck={false}
      aria-invalid={errors[field] !== undefined}
      data-testid={`conn-${field}`}
      {...props}
    />
  );

  const submit = async () => {
    const taken = connections.map((c) => c.config.connection.id).filter((c) => c !== id);
    const result = draftToConfig(draft, taken);
    setErrors(result.errors);
    if (!result.config) return;
    setSaving(true);
    const ok = await saveConnection(result.config);
    if (!ok) setSaving(false);
  };

  return (
    <div className="ex-modal-backdrop" role="presentation">
      <form
        className="ex-modal ex-connection-form"
        role="dialog"
        aria-label={id === '' ? 'Add a broker' : `Edit ${id}`}
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <div className="ex-modal-head">
          <span>{id === '' ? 'Add a broker' : `Edit ${id}`}</span>
          <button type="button" className="ghost icon" aria-label="Close" onClick={() => editConnection(undefined)}>
            <X size={16} />
          </button>
        </div>
        <div className="ex-form-grid">
          <Field label="Id" error={errors.id}>
            {text('id')}
          </Field>
          <Field label="Name" error={errors.name}>
            {text('name', { placeholder: 'optional' })}
          </Field>
          <Field label="Broker" error={undefined}>
            <select
              value={draft.mode}
              onChange={(e) => change('mode', e.target.value as ConnectionDraft['mode'])}
              data-testid="conn-mode"
            >
              <option value="url">URL (mqtt, mqtts, ws, wss)</option>
              <option value="embedded">Embedded broker</option>
            </select>
          </Field>
          {draft.mode === 'url' ? (
            <Field label="URL" error={errors.url} hint="mqtts:// or wss:// for TLS">
              {text('url', { placeholder: 'mqtt://127.0.0.1:1883' })}
            </Field>
          ) : (
            <Field label="Embedded port" error={errors.embeddedPort} hint="0 picks a free port">
              {text('embeddedPort')}
            </Field>
          )}
          <Field label="Protocol" error={undefined}>
            <select
              value={draft.protocolVersion}
              onChange={(e) => change('protocolVersion', Number(e.target.value) as 4 | 5)}
              data-testid="conn-protocol"
            >
              <option value={5}>MQTT 5</option>
              <option value={4}>MQTT 3.1.1</option>
            </select>
          </Field>
          <Field label="Client id" error={errors.clientId}>
            {text('clientId', { placeholder: 'generated' })}
          </Field>
          <Field label="Username" error={errors.username}>
            {text('username', { placeholder: 'optional' })}
          </Field>
          <Field label="Password" error={errors.password} hint="a reference: ${env:NAME} or ${secret:NAME}">
            {text('password', { placeholder: '${env:MQTT_PASSWORD}' })}
          </Field>
        </div>
        <details className="ex-tls" open={Boolean(draft.ca || draft.cert || draft.key)}>
          <summary>TLS (file paths on the engine's machine)</summary>
          <div className="ex-form-grid">
            <Field label="CA file" error={errors.ca}>
              {text('ca', { placeholder: '/etc/ssl/ca.pem' })}
            </Field>
            <Field label="Server name" error={errors.servername}>
              {text('servername', { placeholder: 'for SNI' })}
            </Field>
            <Field label="Client certificate" error={errors.cert}>
              {text('cert', { placeholder: 'mutual TLS' })}
            </Field>
            <Field label="Client key" error={errors.key}>
              {text('key')}
            </Field>
            <Field label="Key passphrase" error={errors.passphrase} hint="a reference">
              {text('passphrase', { placeholder: '${secret:KEY_PASSPHRASE}' })}
            </Field>
          </div>
        </details>
        <Field label="Subscription filters, one per line" error={errors.filters}>
          <textarea
            rows={3}
            value={draft.filters}
            onChange={(e) => change('filters', e.target.value)}
            spellCheck={false}
            data-testid="conn-filters"
          />
        </Field>
        <label className="ex-check">
          <input type="checkbox" checked={draft.enabled} onChange={(e) => change('enabled', e.target.checked)} />
          Connect now
        </label>
        <div className="ex-modal-actions">
          <button type="button" onClick={() => editConnection(undefined)}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={saving}>
            Save
          </button>
        </div>
      </form>
    </div>
  );
}
