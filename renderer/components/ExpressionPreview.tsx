import { RefreshCw } from 'lucide-react';
import { useEffect, useId, useRef, useState } from 'react';
import type { LastMessage, PreviewOutcome, SampleMessage } from '../../shared/protocol/protocol.js';
import { fetchLastMessage, previewExpression, useEditor } from '../store.js';

/** Typing pauses this long before the engine evaluates. */
const DEBOUNCE_MS = 300;
/** How often a running flow's newest message is fetched for the preview. */
const FOLLOW_MS = 2000;

/** What the preview runs against when the node has received nothing (editable). */
const DEFAULT_SAMPLE: SampleMessage = {
  topic: 'site/device-1/telemetry',
  payload: { temperature: 21.5, humidity: 40, level: 'info' },
  params: { device: 'device-1' },
};

type Source =
  | { readonly kind: 'loading' }
  /** The node's last message, small enough to show and edit as a sample. */
  | { readonly kind: 'last'; readonly last: LastMessage }
  /** The node's last message is too large to send: the engine evaluates against it where it is. */
  | { readonly kind: 'last-remote'; readonly last: LastMessage }
  | { readonly kind: 'sample' }
  /** A sample (or the last message) the user has edited. */
  | { readonly kind: 'edited' };

function sampleText(message: SampleMessage): string {
  const { topic, payload, params } = message;
  return JSON.stringify({ topic, payload, params: params ?? {} }, null, 2);
}

function parseSample(text: string): { sample: SampleMessage } | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { error: `The sample is not JSON: ${(error as Error).message}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { error: 'The sample must be an object.' };
  const v = value as Record<string, unknown>;
  if (typeof v['topic'] !== 'string') return { error: 'The sample needs a "topic" string.' };
  if (!('payload' in v)) return { error: 'The sample needs a "payload".' };
  return { sample: v as unknown as SampleMessage };
}

/** The expression with the character at JSONata's error position marked. */
function Marked({ expression, position }: { expression: string; position: number }) {
  // JSONata's position is 1-based, at the end of the token it stopped at.
  const at = Math.min(Math.max(position - 1, 0), expression.length);
  return (
    <code className="preview-marked" aria-hidden="true">
      {expression.slice(0, at)}
      <mark>{expression.slice(at, at + 1) || ' '}</mark>
      {expression.slice(at + 1)}
    </code>
  );
}

function time(at: number | undefined): string {
  return at === undefined ? '' : new Date(at).toLocaleTimeString();
}

/**
 * Live preview of a JSONata field: evaluated in the engine (same evaluator and limits as the
 * transform node) against the last message this node received in the deployed flow, or against
 * an editable sample. Debounced; an answer to an older request is ignored.
 */
export function ExpressionPreview({
  nodeId,
  field,
  expression,
  truthyLabels = ['truthy', 'falsy'],
}: {
  nodeId: string;
  field: string;
  expression: unknown;
  /** How the result's truthiness reads for this node (a filter: which port the message leaves by). */
  truthyLabels?: readonly [string, string] | undefined;
}) {
  const connection = useEditor((s) => s.connection);
  const running = useEditor((s) => s.running);
  const [source, setSource] = useState<Source>({ kind: 'loading' });
  const [text, setText] = useState(() => sampleText(DEFAULT_SAMPLE));
  const [outcome, setOutcome] = useState<PreviewOutcome | undefined>();
  const [pending, setPending] = useState(false);
  const [reloads, setReloads] = useState(0);
  const request = useRef(0);
  const sampleId = useId();

  // The node's last message, on opening, after Refresh, and when the engine (re)connects or starts.
  useEffect(() => {
    let current = true;
    fetchLastMessage(nodeId).then(
      (last) => {
        if (!current) return;
        if (last === null) {
          setSource((s) => (s.kind === 'edited' ? s : { kind: 'sample' }));
          return;
        }
        if (last.truncated) return setSource({ kind: 'last-remote', last });
        setSource({ kind: 'last', last });
        setText(sampleText(last.message));
      },
      () => current && setSource({ kind: 'sample' }),
    );
    return () => {
      current = false;
    };
  }, [nodeId, reloads, connection, running]);

  // While the flow runs, follow the node's newest message (unless the user is editing the sample).
  const following = running && connection === 'open' && source.kind !== 'edited';
  useEffect(() => {
    if (!following) return;
    const timer = setInterval(() => setReloads((n) => n + 1), FOLLOW_MS);
    return () => clearInterval(timer);
  }, [following]);

  const source_ = typeof expression === 'string' ? expression : '';
  const parsed = source.kind === 'last-remote' ? undefined : parseSample(text);
  const sampleError = parsed && 'error' in parsed ? parsed.error : undefined;
  const sample = parsed && 'sample' in parsed ? parsed.sample : undefined;
  const sampleKey = source.kind === 'last-remote' ? `node:${nodeId}` : JSON.stringify(sample ?? null);

  useEffect(() => {
    if (source.kind === 'loading' || source_.trim() === '' || (source.kind !== 'last-remote' && !sample)) {
      setOutcome(undefined);
      return;
    }
    const id = ++request.current;
    setPending(true);
    const timer = setTimeout(() => {
      const from = source.kind === 'last-remote' ? { node: nodeId } : { message: sample as SampleMessage };
      previewExpression(source_, from).then(
        (result) => {
          if (id !== request.current) return;
          setOutcome(result);
          setPending(false);
        },
        (error: unknown) => {
          if (id !== request.current) return;
          setOutcome({ ok: false, error: { message: error instanceof Error ? error.message : String(error) } });
          setPending(false);
        },
      );
    }, DEBOUNCE_MS);
    return () => clearTimeout(timer);
    // `sample` is represented by sampleKey (a new object each render).
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [source_, sampleKey, source.kind, nodeId]);

  const from =
    source.kind === 'last' || source.kind === 'last-remote'
      ? `the last message ${nodeId} received (${source.last.message.topic}, ${time(source.last.message.receivedAt)})`
      : source.kind === 'sample'
        ? 'a sample message (the node has received none in the deployed flow)'
        : source.kind === 'edited'
          ? 'the message as edited below'
          : 'the last message…';

  return (
    <div className="expression-preview" data-testid={`preview-${field}`}>
      <div className="preview-head">
        <span className="preview-title">Preview</span>
        <span className="muted small preview-from" title={from}>
          against {from}
        </span>
        <button
          type="button"
          className="ghost icon"
          onClick={() => setReloads((n) => n + 1)}
          aria-label="Use the node's last message"
          title="Use the node's last message"
        >
          <RefreshCw size={14} aria-hidden="true" />
        </button>
      </div>
      <div className="preview-output" aria-live="polite" data-testid={`preview-result-${field}`}>
        {source_.trim() === '' ? (
          <span className="muted small">Type an expression to see its result.</span>
        ) : sampleError ? (
          <span className="field-error">{sampleError}</span>
        ) : outcome === undefined ? (
          <span className="muted small">Evaluating…</span>
        ) : outcome.ok ? (
          <>
            <pre className={pending ? 'stale' : undefined}>
              {outcome.result === undefined ? '(nothing: the expression yields no value)' : outcome.result}
              {outcome.truncated ? '\n…' : ''}
            </pre>
            <span className="muted small">
              {outcome.truthy ? truthyLabels[0] : truthyLabels[1]} · {outcome.elapsedMs} ms
            </span>
          </>
        ) : (
          <div className="preview-error" role="alert">
            <span className="field-error">
              {outcome.error.code ? `${outcome.error.code}: ` : ''}
              {outcome.error.message}
              {outcome.error.position !== undefined ? ` (at character ${outcome.error.position})` : ''}
            </span>
            {outcome.error.position !== undefined && <Marked expression={source_} position={outcome.error.position} />}
          </div>
        )}
      </div>
      {source.kind === 'last-remote' ? (
        <p className="muted small">
          Too large to edit here; the engine evaluates against it. Starts with:{' '}
          <code>{source.last.payloadPreview}</code>
        </p>
      ) : (
        <details className="preview-sample">
          <summary>Message</summary>
          <label htmlFor={sampleId} className="visually-hidden">
            Sample message (JSON: topic, payload, params)
          </label>
          <textarea
            id={sampleId}
            className="json"
            rows={Math.min(12, Math.max(4, text.split('\n').length))}
            value={text}
            spellCheck={false}
            onChange={(e) => {
              setText(e.target.value);
              if (source.kind !== 'edited') setSource({ kind: 'edited' });
            }}
            data-testid={`preview-sample-${field}`}
          />
        </details>
      )}
    </div>
  );
}
