import jsonata from 'jsonata';
import type { FlowMessage } from '../../../shared/message.js';
import type { NodeContext, NodeInstance } from '../runtime/nodeRuntime.js';
import { OrderedResults } from '../runtime/orderedResults.js';
import {
  checkResult,
  clarifyLimitError,
  installLimits,
  MAX_SEQUENCE_LENGTH,
  regexLiterals,
} from './expressionLimits.js';
import { compileFast, FALLBACK, type FastEvaluator } from './fastExpression.js';
import { regexProblem, SafeJsonataRegexEngine } from './safeRegex.js';

/**
 * Guard rails for user expressions: an evaluation that runs longer or recurses deeper fails. The
 * bounds on memory (sequence and string lengths, heap growth, result size) are in
 * expressionLimits.ts; regex literals are checked by safeRegex.ts.
 */
export const EXPRESSION_TIMEOUT_MS = 1000;
export const EXPRESSION_MAX_STACK = 500;
/** Evaluations in flight per node; beyond it a message is dead-lettered rather than queued. */
export const MAX_PENDING_EVALUATIONS = 10_000;

export interface CompiledExpression {
  readonly jsonata: jsonata.Expression;
  /** A synchronous shortcut for the everyday subset, when the expression is in it (see fastExpression.ts). */
  readonly fast: FastEvaluator | undefined;
}

export function compileExpression(source: string): CompiledExpression {
  const compiled = jsonata(source, {
    timeout: EXPRESSION_TIMEOUT_MS,
    stack: EXPRESSION_MAX_STACK,
    sequence: MAX_SEQUENCE_LENGTH,
    RegexEngine: SafeJsonataRegexEngine,
  });
  // The fast path is compiled first: installLimits rewrites `&` in the AST for JSONata's own use.
  const fast = compileFast(compiled.ast());
  installLimits(compiled);
  return { jsonata: compiled, fast };
}

/**
 * Evaluates with JSONata, under the limits, and checks that the result can be handed on. Errors
 * are JSONata's (or ExpressionLimitError), for describeJsonataError.
 */
export async function evaluateExpression(expression: CompiledExpression, message: FlowMessage): Promise<unknown> {
  let value: unknown;
  try {
    value = await expression.jsonata.evaluate(message.payload, bindingsFor(message));
  } catch (error) {
    throw clarifyLimitError(error);
  }
  return checkResult(value, message.raw?.length ?? 0);
}

/** Returns the problem with an expression, or undefined when it compiles. */
export function checkExpression(source: string): string | undefined {
  let ast: unknown;
  try {
    ast = jsonata(source).ast();
  } catch (error) {
    return describeJsonataError(error);
  }
  for (const literal of regexLiterals(ast)) {
    const problem = regexProblem(literal.source, literal.flags);
    if (problem !== undefined) {
      const where = literal.position === undefined ? '' : ` (at character ${literal.position})`;
      return `regular expression /${literal.source}/ ${problem}${where}`;
    }
  }
  return undefined;
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

/**
 * Evaluates `expression` for each message, one evaluation at a time, and hands the results on in
 * arrival order. One at a time because evaluations are CPU-bound and JSONata's time limit runs
 * from the start of each: a burst evaluated at once made every one wait for the others and fail
 * as an "Evaluation timeout" although none was slow. Each message's delivery is held until its
 * result is handed on. Bounded: beyond MAX_PENDING_EVALUATIONS a message is dead-lettered.
 */
export function evaluateInOrder(
  ctx: NodeContext<unknown>,
  node: string,
  expression: CompiledExpression,
  onResult: (message: FlowMessage, value: unknown, error: unknown) => void,
): Required<Pick<NodeInstance, 'onInput' | 'pending' | 'stop'>> {
  const results = new OrderedResults<FlowMessage, unknown>(MAX_PENDING_EVALUATIONS, (message, value, error) => {
    onResult(message, value, error);
    message.delivery?.release();
  });
  let previous: Promise<unknown> = Promise.resolve();
  const fast = expression.fast;
  return {
    onInput(message) {
      const value = fast === undefined ? FALLBACK : fast(message.payload, message);
      if (value !== FALLBACK && results.size === 0) {
        // Nothing queued ahead of it: handing the result on now keeps arrival order.
        onResult(message, value, undefined);
        return;
      }
      if (results.size >= MAX_PENDING_EVALUATIONS) {
        ctx.counters.dropped++;
        ctx.deadLetter(message, `${node} backlog full (${MAX_PENDING_EVALUATIONS} evaluations pending)`);
        return;
      }
      message.delivery?.hold();
      if (value !== FALLBACK) {
        results.push(message, Promise.resolve(value));
        return;
      }
      const work = previous.then(() => evaluateExpression(expression, message));
      previous = work.catch(() => undefined);
      results.push(message, work);
    },
    pending: () => results.size,
    stop: () => results.idle(),
  };
}
