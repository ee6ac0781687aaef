import { ChartLine, Eraser, Send, Workflow } from 'lucide-react';
import { memo, useEffect, useMemo, useState } from 'react';
import type { TopicMessage } from '../../shared/protocol/explorerProtocol.js';
import { pickMessage, pollHistory, treeOf, useExplorer, HISTORY_POLL_MS } from './explorerStore.js';
import { addSeries, askClearRetained, clearRetained, openFlowDialog, reusePublish } from './explorerActions.js';
import { JsonTree } from './JsonTree.js';
import { compactNumber, decodePayload, formatBytes, formatRate, hexDump, numericFields } from './model/payload.js';
import { jsonDiff, lineDiff } from './model/payloadDiff.js';
import { RecordingSection } from './RecordingSection.js';
import { childCount, findNode } from './model/topicTree.js';

type PayloadView = 'json' | 'text' | 'hex' | 'number' | 'diff';

function clock(at: number): string {
  const d = new Date(at);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** The selected topic (or folder): its numbers, history, payload views, diff, actions, recording. */
export function TopicDetail() {
  const connection = useExplorer((s) => s.selectedConnection);
  const topic = useExplorer((s) => s.selectedTopic);
  useExplorer((s) => s.treeData);
  const history = useExplorer((s) => s.history);
  const evicted = useExplorer((s) => s.historyEvicted);
  const pickedSeq = useExplorer((s) => s.pickedSeq);
  const tree = treeOf(connection);
  const node = tree && topic !== undefined ? findNode(tree, topic) : undefined;
  const isTopic = node?.stat !== undefined;
  const isFolder = node !== undefined && childCount(node) > 0;

  useEffect(() => {
    if (topic === undefined || !isTopic) return;
    void pollHistory();
    const timer = setInterval(() => void pollHistory(), HISTORY_POLL_MS);
    return () => clearInterval(timer);
  }, [topic, isTopic, connection]);

  if (topic === undefined || !node) {
    return <p className="ex-empty">Select a topic in the tree to see its messages.</p>;
  }
  const index = pickedSeq === undefined ? history.length - 1 : history.findIndex((m) => m.seq === pickedSeq);
  const message = history[index];
  const previous = index > 0 ? history[index - 1] : undefined;

  return (
    <div className="ex-topic" data-testid="topic-detail">
      <div className="ex-topic-head">
        <code className="ex-topic-path" title={topic}>
          {topic === '' ? '(empty level)' : topic}
        </code>
        <div className="ex-topic-stats muted">
          {isTopic && node.stat && (
            <>
              <span data-testid="topic-count">{node.stat.count} msgs</span>
              <span>{formatRate(node.stat.rate) || '0/s'}</span>
              <span>QoS {node.stat.qos}</span>
              {node.stat.retained && <span className="ex-badge">retained</span>}
              <span>{formatBytes(node.stat.bytes)}</span>
            </>
          )}
          {isFolder && (
            <span>
              subtree: {compactNumber(node.topics)} topics, {compactNumber(node.count)} msgs, {node.retained} retained
            </span>
          )}
        </div>
        <div className="ex-actions">
          {isTopic && (
            <button
              type="button"
              onClick={() => void openFlowDialog(topic, false)}
              title="Infer a schema and build a flow"
            >
              <Workflow size={14} /> Create flow
            </button>
          )}
          {isFolder && (
            <button type="button" onClick={() => void openFlowDialog(topic, true)} title={`A flow for ${topic}/#`}>
              <Workflow size={14} /> Create flow for subtree
            </button>
          )}
          {isTopic && node.stat?.retained && (
            <button type="button" onClick={() => void clearRetained(topic, false)}>
              <Eraser size={14} /> Clear retained
            </button>
          )}
          {isFolder && (
            <button type="button" onClick={() => askClearRetained(topic)} disabled={node.retained === 0}>
              <Eraser size={14} /> Clear retained subtree…
            </button>
          )}
          <button
            type="button"
            onClick={() =>
              reusePublish({
                topic,
                payload: message ? decodePayload(message.payloadBase64).text : '',
                format: message && decodePayload(message.payloadBase64).json ? 'json' : 'text',
                qos: 0,
                retain: false,
                properties: undefined,
              })
            }
          >
            <Send size={14} /> Publish…
          </button>
        </div>
      </div>
      {isTopic && (
        <>
          <HistoryList history={history} evicted={evicted} selectedSeq={message?.seq} />
          {message ? (
            <MessageView key={message.seq} message={message} previous={previous} topic={topic} />
          ) : (
            <p className="ex-empty">Loading the history…</p>
          )}
        </>
      )}
      <RecordingSection key={`${topic}:${isFolder}`} topic={topic} subtree={isFolder} />
    </div>
  );
}

const HistoryList = memo(function HistoryList({
  history,
  evicted,
  selectedSeq,
}: {
  history: readonly TopicMessage[];
  evicted: number;
  selectedSeq: number | undefined;
}) {
  // Newest first; the list is bounded by PAGE_HISTORY_MAX.
  const rows = useMemo(
    () => [...history].reverse().map((m) => ({ m, preview: decodePayload(m.payloadBase64).text.slice(0, 120) })),
    [history],
  );
  return (
    <div className="ex-history">
      <div className="ex-subhead">
        History{' '}
        <span className="muted">
          {history.length} on the page{evicted > 0 ? `, ${evicted} older evicted` : ''}
        </span>
      </div>
      <div className="ex-history-rows" data-testid="history">
        {rows.map(({ m, preview }) => (
          <button
            type="button"
            key={m.seq}
            className={`ex-history-row${m.seq === selectedSeq ? ' selected' : ''}`}
            onClick={() => pickMessage(m.seq === history[history.length - 1]?.seq ? undefined : m.seq)}
            data-testid="history-row"
          >
            <span className="ex-h-time">{clock(m.at)}</span>
            <span className="ex-h-meta">
              q{m.qos}
              {m.retain ? ' R' : ''}
            </span>
            <span className="ex-h-size">{formatBytes(m.size)}</span>
            <span className="ex-h-preview">{preview}</span>
          </button>
        ))}
      </div>
    </div>
  );
});

function defaultView(decoded: ReturnType<typeof decodePayload>): PayloadView {
  if (decoded.number !== undefined) return 'number';
  if (decoded.json && typeof decoded.json.value === 'object' && decoded.json.value !== null) return 'json';
  if (!decoded.utf8) return 'hex';
  return 'text';
}

function MessageView({
  message,
  previous,
  topic,
}: {
  message: TopicMessage;
  previous: TopicMessage | undefined;
  topic: string;
}) {
  const decoded = useMemo(() => decodePayload(message.payloadBase64), [message]);
  const before = useMemo(() => (previous ? decodePayload(previous.payloadBase64) : undefined), [previous]);
  const [view, setView] = useState<PayloadView>(() => defaultView(decoded));
  const fields = useMemo(() => (decoded.json ? numericFields(decoded.json.value) : []), [decoded]);
  const views: { id: PayloadView; label: string; enabled: boolean }[] = [
    { id: 'json', label: 'JSON', enabled: decoded.json !== undefined },
    { id: 'text', label: 'Raw', enabled: true },
    { id: 'hex', label: 'Hex', enabled: true },
    { id: 'number', label: 'Number', enabled: decoded.number !== undefined },
    { id: 'diff', label: 'Diff', enabled: before !== undefined },
  ];
  return (
    <div className="ex-message" data-testid="message-view">
      <div className="ex-message-meta">
        <span>#{message.seq}</span>
        <span>{new Date(message.at).toLocaleString()}</span>
        <span>QoS {message.qos}</span>
        <span>{message.retain ? 'retained' : 'not retained'}</span>
        <span>{formatBytes(message.size)}</span>
      </div>
      <div className="ex-segmented" role="tablist" aria-label="Payload view">
        {views.map((v) => (
          <button
            key={v.id}
            type="button"
            role="tab"
            aria-selected={view === v.id}
            className={view === v.id ? 'active' : ''}
            disabled={!v.enabled}
            onClick={() => setView(v.id)}
          >
            {v.label}
          </button>
        ))}
      </div>
      <div className="ex-payload" data-testid={`payload-${view}`}>
        {view === 'json' && decoded.json && <JsonTree value={decoded.json.value} />}
        {view === 'text' && <pre>{decoded.text}</pre>}
        {view === 'hex' && <pre>{hexDump(decoded.bytes)}</pre>}
        {view === 'number' && <div className="ex-number">{decoded.number}</div>}
        {view === 'diff' && before && <DiffView before={before} after={decoded} />}
      </div>
      {(decoded.number !== undefined || fields.length > 0) && (
        <div className="ex-chartable">
          <span className="muted">Chart:</span>
          {decoded.number !== undefined && (
            <button type="button" className="chip" onClick={() => addSeries({ topic, field: undefined })}>
              <ChartLine size={12} /> value
            </button>
          )}
          {fields.map((field) => (
            <button key={field} type="button" className="chip" onClick={() => addSeries({ topic, field })}>
              <ChartLine size={12} /> {field}
            </button>
          ))}
        </div>
      )}
      <Properties message={message} />
    </div>
  );
}

function short(value: unknown): string {
  const text = JSON.stringify(value) ?? 'undefined';
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}

function DiffView({
  before,
  after,
}: {
  before: ReturnType<typeof decodePayload>;
  after: ReturnType<typeof decodePayload>;
}) {
  if (before.json && after.json) {
    const { changes, more } = jsonDiff(before.json.value, after.json.value);
    if (changes.length === 0) return <p className="muted">Same as the previous message.</p>;
    return (
      <table className="ex-diff" data-testid="json-diff">
        <tbody>
          {changes.map((c) => (
            <tr key={`${c.kind}:${c.path}`} className={`diff-${c.kind}`}>
              <td className="diff-mark">{c.kind === 'added' ? '+' : c.kind === 'removed' ? '−' : '~'}</td>
              <td>
                <code>{c.path === '' ? '(value)' : c.path}</code>
              </td>
              <td>
                {c.kind !== 'added' && <span className="diff-before">{short(c.before)}</span>}
                {c.kind === 'changed' && ' → '}
                {c.kind !== 'removed' && <span className="diff-after">{short(c.after)}</span>}
              </td>
            </tr>
          ))}
          {more > 0 && (
            <tr>
              <td />
              <td colSpan={2} className="muted">
                … {more} more changes
              </td>
            </tr>
          )}
        </tbody>
      </table>
    );
  }
  const ops = lineDiff(before.text, after.text);
  return (
    <pre className="ex-line-diff" data-testid="text-diff">
      {ops.map((op, i) => (
        <div key={i} className={`diff-${op.kind}`}>
          {op.kind === 'added' ? '+ ' : op.kind === 'removed' ? '- ' : '  '}
          {op.text}
        </div>
      ))}
    </pre>
  );
}

function Properties({ message }: { message: TopicMessage }) {
  const p = message.properties;
  if (!p) return null;
  const rows: [string, string][] = [];
  if (p.contentType !== undefined) rows.push(['Content type', p.contentType]);
  if (p.payloadFormatIndicator !== undefined)
    rows.push(['Payload format', p.payloadFormatIndicator ? 'UTF-8' : 'bytes']);
  if (p.messageExpiryInterval !== undefined) rows.push(['Message expiry', `${p.messageExpiryInterval} s`]);
  if (p.responseTopic !== undefined) rows.push(['Response topic', p.responseTopic]);
  if (p.correlationDataBase64 !== undefined) {
    const data = decodePayload(p.correlationDataBase64);
    rows.push(['Correlation data', data.utf8 ? data.text : `base64 ${p.correlationDataBase64}`]);
  }
  if (p.topicAlias !== undefined) rows.push(['Topic alias', String(p.topicAlias)]);
  if (p.subscriptionIdentifier !== undefined) {
    rows.push(['Subscription id', ([] as number[]).concat(p.subscriptionIdentifier as number | number[]).join(', ')]);
  }
  const user = Object.entries(p.userProperties ?? {});
  if (rows.length === 0 && user.length === 0) return null;
  return (
    <div className="ex-props" data-testid="properties">
      <div className="ex-subhead">MQTT 5 properties</div>
      <table>
        <tbody>
          {rows.map(([k, v]) => (
            <tr key={k}>
              <th>{k}</th>
              <td>{v}</td>
            </tr>
          ))}
          {user.map(([k, v]) => (
            <tr key={`user:${k}`}>
              <th>
                <span className="ex-badge">user</span> {k}
              </th>
              <td>{Array.isArray(v) ? v.join(', ') : String(v)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
