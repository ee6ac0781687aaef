import type { FlowMessage } from '../../shared/message.js';
import {
  MAX_PREVIEW_EXPRESSION_CHARS,
  MAX_PREVIEW_RESULT_CHARS,
  MAX_SAMPLE_PAYLOAD_BYTES,
  type LastMessage,
  type PreviewOutcome,
  type SampleMessage,
} from '../../shared/protocol/protocol.js';
import {
  checkExpression,
  compileExpression,
  evaluateExpression,
  isTruthy,
  type CompiledExpression,
} from '../engine/nodes/jsonataExpression.js';

/**
 * The editor's JSONata live preview, engine side: the same compiler, bindings and limits as the
 * transform node (jsonataExpression.ts), so what the preview shows is what the flow would do.
 */

/** The wire form of a message a node received: serialized here, on request, never on the hot path. */
export function toLastMessage(message: FlowMessage): LastMessage {
  const envelope = {
    topic: message.topic,
    qos: message.qos,
    params: message.params,
    receivedAt: message.receivedAt,
    id: message.id,
  };
  if (message.payload instanceof Uint8Array) {
    const bytes = message.payload;
    return {
      message: { ...envelope, payload: null },
      truncated: true,
      payloadPreview: `(${bytes.length} bytes of binary) ${Buffer.from(bytes.subarray(0, 64)).toString('hex')}`,
    };
  }
  let text: string | undefined;
  try {
    text = JSON.stringify(message.payload);
  } catch {
    text = undefined;
  }
  if (text === undefined || text.length > MAX_SAMPLE_PAYLOAD_BYTES) {
    return {
      message: { ...envelope, payload: null },
      truncated: true,
      payloadPreview: text === undefined ? String(message.payload) : `${text.slice(0, 1024)}…`,
    };
  }
  return { message: { ...envelope, payload: JSON.parse(text) as unknown }, truncated: false };
}

/** Checks a sample message sent by the editor; returns it, or what is wrong with it. */
export function parseSample(value: unknown): SampleMessage | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return '"message" must be an object';
  const v = value as Record<string, unknown>;
  if (typeof v['topic'] !== 'string') return '"message.topic" must be a string';
  if (!('payload' in v)) return '"message.payload" is missing';
  const qos = v['qos'];
  if (qos !== undefined && qos !== 0 && qos !== 1 && qos !== 2) return '"message.qos" must be 0, 1 or 2';
  const params = v['params'];
  if (
    params !== undefined &&
    (typeof params !== 'object' ||
      params === null ||
      Array.isArray(params) ||
      !Object.values(params).every((p) => typeof p === 'string'))
  ) {
    return '"message.params" must be an object of strings';
  }
  if (v['receivedAt'] !== undefined && typeof v['receivedAt'] !== 'number')
    return '"message.receivedAt" must be a number';
  if (v['id'] !== undefined && typeof v['id'] !== 'string') return '"message.id" must be a string';
  return v as unknown as SampleMessage;
}

/** A FlowMessage built from a sample, for the evaluator (no delivery, no raw bytes). */
export function sampleToMessage(sample: SampleMessage): FlowMessage {
  return {
    id: sample.id ?? 'preview',
    seq: 0,
    topic: sample.topic,
    payload: sample.payload,
    raw: undefined,
    qos: sample.qos ?? 0,
    retain: false,
    properties: undefined,
    params: sample.params ?? {},
    receivedAt: sample.receivedAt ?? Date.now(),
    receivedMono: 0,
    connection: undefined,
    packetId: undefined,
    delivery: undefined,
  };
}

function failure(error: unknown): PreviewOutcome {
  if (error && typeof error === 'object') {
    const e = error as { message?: unknown; code?: unknown; position?: unknown };
    return {
      ok: false,
      error: {
        message: typeof e.message === 'string' ? e.message : 'expression failed',
        code: typeof e.code === 'string' ? e.code : undefined,
        position: typeof e.position === 'number' ? e.position : undefined,
      },
    };
  }
  return { ok: false, error: { message: String(error) } };
}

/** Compiled expressions of recent previews: typing re-sends the same text often (debounce, retries). */
const compiledCache = new Map<string, CompiledExpression>();
const COMPILED_CACHE_SIZE = 32;

function compiled(source: string): CompiledExpression {
  const hit = compiledCache.get(source);
  if (hit) return hit;
  const fresh = compileExpression(source);
  if (compiledCache.size >= COMPILED_CACHE_SIZE) compiledCache.delete(compiledCache.keys().next().value as string);
  compiledCache.set(source, fresh);
  return fresh;
}

/**
 * Evaluates `source` against `message` under the transform node's limits (EXPRESSION_TIMEOUT_MS,
 * recursion, sequence, string and result bounds; regex literals checked by safe-regex2 first).
 */
export async function previewExpression(source: string, message: FlowMessage): Promise<PreviewOutcome> {
  if (source.length > MAX_PREVIEW_EXPRESSION_CHARS) {
    return { ok: false, error: { message: `the expression is over ${MAX_PREVIEW_EXPRESSION_CHARS} characters` } };
  }
  if (source.trim() === '') return { ok: false, error: { message: 'the expression is empty' } };
  let expression: CompiledExpression;
  try {
    expression = compiled(source);
  } catch (error) {
    return failure(error);
  }
  const problem = checkExpression(source);
  if (problem !== undefined) return { ok: false, error: { message: problem } };
  const started = performance.now();
  let value: unknown;
  try {
    value = await evaluateExpression(expression, message);
  } catch (error) {
    return failure(error);
  }
  const elapsedMs = Math.round((performance.now() - started) * 10) / 10;
  const text = value === undefined ? undefined : (JSON.stringify(value, null, 2) ?? String(value));
  const truncated = text !== undefined && text.length > MAX_PREVIEW_RESULT_CHARS;
  return {
    ok: true,
    result: truncated ? text.slice(0, MAX_PREVIEW_RESULT_CHARS) : text,
    truthy: isTruthy(value),
    truncated,
    elapsedMs,
  };
}
