import { Eraser, Send } from 'lucide-react';
import { useState } from 'react';
import type { TopicMessageProperties } from '../../shared/protocol/explorerProtocol.js';
import { isValidTopicName } from '../../shared/topicFilter.js';
import { useExplorer, type PublishDraft } from './explorerStore.js';
import { askClearRetained, clearRetained, publish, reusePublish } from './explorerActions.js';
import { encodeBase64 } from './model/payload.js';

/** User properties in the form, at most (MQTT allows more; a panel needs a few). */
const MAX_USER_PROPERTIES = 32;

/** `key=value` lines → user properties; an error names the line. */
export function parseUserProperties(text: string): { value?: Record<string, string>; error?: string } {
  const value: Record<string, string> = {};
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (lines.length > MAX_USER_PROPERTIES) return { error: `at most ${MAX_USER_PROPERTIES} user properties` };
  for (const [i, line] of lines.entries()) {
    const eq = line.indexOf('=');
    if (eq <= 0) return { error: `line ${i + 1}: write key=value` };
    value[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return { value };
}

function userPropertiesText(properties: TopicMessageProperties | undefined): string {
  return Object.entries(properties?.userProperties ?? {})
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(',') : String(v)}`)
    .join('\n');
}

function correlationText(properties: TopicMessageProperties | undefined): string {
  if (!properties?.correlationDataBase64) return '';
  try {
    return new TextDecoder().decode(Uint8Array.from(atob(properties.correlationDataBase64), (c) => c.charCodeAt(0)));
  } catch {
    return '';
  }
}

/** Publish to the selected broker; recent publishes to reuse; clear retained messages. */
export function PublishPanel() {
  const loads = useExplorer((s) => s.publishLoads);
  const draft = useExplorer((s) => s.publishDraft);
  const selectedTopic = useExplorer((s) => s.selectedTopic);
  const recent = useExplorer((s) => s.recentPublishes);
  return (
    <div className="ex-publish">
      <PublishForm key={loads} initial={draft} defaultTopic={selectedTopic ?? ''} />
      <div className="ex-subhead">Recent publishes</div>
      {recent.length === 0 && <p className="ex-empty">Nothing published yet.</p>}
      <ul className="ex-recent" data-testid="recent-publishes">
        {recent.map((p, i) => (
          <li key={i}>
            <button type="button" onClick={() => reusePublish(p)} title="Load into the form">
              <code>{p.topic}</code>
              <span className="muted">
                q{p.qos}
                {p.retain ? ' R' : ''}
              </span>
              <span className="ex-h-preview">{p.payload.slice(0, 80)}</span>
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}

function PublishForm({ initial, defaultTopic }: { initial: PublishDraft | undefined; defaultTopic: string }) {
  const props = initial?.properties;
  const [topic, setTopic] = useState(initial?.topic ?? defaultTopic);
  const [payload, setPayload] = useState(initial?.payload ?? '');
  const [format, setFormat] = useState<'text' | 'json'>(initial?.format ?? 'json');
  const [qos, setQos] = useState<0 | 1 | 2>(initial?.qos ?? 0);
  const [retain, setRetain] = useState(initial?.retain ?? false);
  const [contentType, setContentType] = useState(props?.contentType ?? '');
  const [responseTopic, setResponseTopic] = useState(props?.responseTopic ?? '');
  const [correlation, setCorrelation] = useState(correlationText(props));
  const [expiry, setExpiry] = useState(props?.messageExpiryInterval?.toString() ?? '');
  const [userProps, setUserProps] = useState(userPropertiesText(props));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);

  let jsonError: string | undefined;
  if (format === 'json' && payload.trim() !== '') {
    try {
      JSON.parse(payload);
    } catch (error) {
      jsonError = (error as Error).message;
    }
  }

  const submit = async () => {
    const found: Record<string, string> = {};
    if (!isValidTopicName(topic)) found['topic'] = 'a topic name: not empty, no + or # wildcards';
    if (jsonError) found['payload'] = `not JSON: ${jsonError}`;
    const expirySeconds = expiry.trim() === '' ? undefined : Number(expiry);
    if (
      expirySeconds !== undefined &&
      (!Number.isInteger(expirySeconds) || expirySeconds < 0 || expirySeconds > 4294967295)
    ) {
      found['expiry'] = 'whole seconds, 0 to 4294967295';
    }
    if (responseTopic !== '' && !isValidTopicName(responseTopic))
      found['responseTopic'] = 'a topic name without wildcards';
    const user = parseUserProperties(userProps);
    if (user.error) found['userProps'] = user.error;
    setErrors(found);
    if (Object.keys(found).length > 0) return;
    const properties: TopicMessageProperties = {
      ...(contentType.trim() ? { contentType: contentType.trim() } : {}),
      ...(responseTopic ? { responseTopic } : {}),
      ...(correlation ? { correlationDataBase64: encodeBase64(new TextEncoder().encode(correlation)) } : {}),
      ...(expirySeconds !== undefined ? { messageExpiryInterval: expirySeconds } : {}),
      ...(user.value && Object.keys(user.value).length > 0 ? { userProperties: user.value } : {}),
    };
    setBusy(true);
    await publish({
      topic,
      payload,
      format,
      qos,
      retain,
      properties: Object.keys(properties).length > 0 ? properties : undefined,
    });
    setBusy(false);
  };

  return (
    <form
      className="ex-publish-form"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
      aria-label="Publish"
    >
      <label className={`ex-field${errors['topic'] ? ' invalid' : ''}`}>
        <span className="ex-field-label">Topic</span>
        <input
          value={topic}
          onChange={(e) => setTopic(e.target.value)}
          spellCheck={false}
          data-testid="publish-topic"
        />
        {errors['topic'] && <span className="ex-field-error">{errors['topic']}</span>}
      </label>
      <div className="ex-inline-form">
        <div className="ex-segmented" role="radiogroup" aria-label="Payload format">
          {(['json', 'text'] as const).map((f) => (
            <button
              key={f}
              type="button"
              role="radio"
              aria-checked={format === f}
              className={format === f ? 'active' : ''}
              onClick={() => setFormat(f)}
            >
              {f === 'json' ? 'JSON' : 'Text'}
            </button>
          ))}
        </div>
        <label>
          QoS
          <select value={qos} onChange={(e) => setQos(Number(e.target.value) as 0 | 1 | 2)} aria-label="QoS">
            <option value={0}>0</option>
            <option value={1}>1</option>
            <option value={2}>2</option>
          </select>
        </label>
        <label className="ex-check">
          <input type="checkbox" checked={retain} onChange={(e) => setRetain(e.target.checked)} aria-label="Retain" />
          Retain
        </label>
      </div>
      <label className={`ex-field${jsonError || errors['payload'] ? ' invalid' : ''}`}>
        <span className="ex-field-label">Payload</span>
        <textarea
          rows={6}
          value={payload}
          onChange={(e) => setPayload(e.target.value)}
          spellCheck={false}
          className="mono"
          data-testid="publish-payload"
        />
        {jsonError && (
          <span className="ex-field-error" data-testid="json-error">
            Not JSON: {jsonError}
          </span>
        )}
      </label>
      <details className="ex-tls">
        <summary>MQTT 5 properties</summary>
        <div className="ex-form-grid">
          <label className="ex-field">
            <span className="ex-field-label">Content type</span>
            <input
              value={contentType}
              onChange={(e) => setContentType(e.target.value)}
              placeholder="application/json"
            />
          </label>
          <label className={`ex-field${errors['responseTopic'] ? ' invalid' : ''}`}>
            <span className="ex-field-label">Response topic</span>
            <input value={responseTopic} onChange={(e) => setResponseTopic(e.target.value)} spellCheck={false} />
            {errors['responseTopic'] && <span className="ex-field-error">{errors['responseTopic']}</span>}
          </label>
          <label className="ex-field">
            <span className="ex-field-label">Correlation data (text)</span>
            <input value={correlation} onChange={(e) => setCorrelation(e.target.value)} spellCheck={false} />
          </label>
          <label className={`ex-field${errors['expiry'] ? ' invalid' : ''}`}>
            <span className="ex-field-label">Message expiry (s)</span>
            <input value={expiry} onChange={(e) => setExpiry(e.target.value)} />
            {errors['expiry'] && <span className="ex-field-error">{errors['expiry']}</span>}
          </label>
        </div>
        <label className={`ex-field${errors['userProps'] ? ' invalid' : ''}`}>
          <span className="ex-field-label">User properties, key=value per line</span>
          <textarea rows={2} value={userProps} onChange={(e) => setUserProps(e.target.value)} spellCheck={false} />
          {errors['userProps'] && <span className="ex-field-error">{errors['userProps']}</span>}
        </label>
      </details>
      <div className="ex-modal-actions">
        <button
          type="button"
          onClick={() => void clearRetained(topic, false)}
          disabled={!isValidTopicName(topic)}
          title="Publish an empty retained message: the broker forgets the retained value"
        >
          <Eraser size={14} /> Clear retained
        </button>
        <button type="button" onClick={() => askClearRetained(topic)} disabled={!isValidTopicName(topic)}>
          <Eraser size={14} /> Clear retained subtree…
        </button>
        <button type="submit" className="primary" disabled={busy || jsonError !== undefined}>
          <Send size={14} /> Publish
        </button>
      </div>
    </form>
  );
}
