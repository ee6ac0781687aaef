import jsonata from 'jsonata';
import type { FlowMessage } from '../../../shared/message.js';

/** Guard rails for user expressions: an evaluation that runs longer or recurses deeper fails. */
export const EXPRESSION_TIMEOUT_MS = 1000;
export const EXPRESSION_MAX_STACK = 500;
/** Evaluations in flight per node; beyond it a message is dead-lettered rather than queued. */
export const MAX_PENDING_EVALUATIONS = 10_000;

export type CompiledExpression = jsonata.Expression;

export function compileExpression(source: string): CompiledExpression {
  return jsonata(source, { timeout: EXPRESSION_TIMEOUT_MS, stack: EXPRESSION_MAX_STACK });
}

/** Returns the problem with an expression, or undefined when it compiles. */
export function checkExpression(source: string): string | undefined {
  try {
    jsonata(source);
    return undefined;
  } catch (error) {
    return describeJsonataError(error);
  }
}

export function describeJsonataError(error: unknown): string {
  if (error && typeof error === 'object') {
    const e = error as { message?: string; code?: string; position?: number; value?: unknown };
    const where = typeof e.position === 'number' ? ` (at character ${e.position})` : '';
    const code = e.code ? `${e.code}: ` : '';
    return `${code}${e.message ?? 'expression failed'}${where}`;
  }
  return String(error);
}

/** The variables an expression sees besides the payload. */
export function bindingsFor(message: FlowMessage): Record<string, unknown> {
  return {
    topic: message.topic,
    params: message.params,
    qos: message.qos,
    receivedAt: message.receivedAt,
    id: message.id,
  };
}

/** JSONata truthiness, as `$boolean()` defines it. */
export function isTruthy(value: unknown): boolean {
  if (value === undefined || value === null || value === false) return false;
  if (typeof value === 'number') return value !== 0;
  if (typeof value === 'string') return value.length > 0;
  if (typeof value === 'function') return false;
  if (Array.isArray(value)) return value.some(isTruthy);
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return true;
}
