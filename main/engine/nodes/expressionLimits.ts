import type jsonata from 'jsonata';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { BOUNDED, CONCAT_NAME, concat, WRAPPED } from './boundedBuiltins.js';
import {
  ExpressionLimitError,
  HEAP_CEILING,
  HEAP_CHECK_INTERVAL,
  MAX_EVALUATION_HEAP_GROWTH,
} from './expressionBounds.js';

export * from './expressionBounds.js';

/**
 * Bounds on user JSONata expressions, beyond JSONata's own time limit (EXPRESSION_TIMEOUT_MS) and
 * recursion limit (EXPRESSION_MAX_STACK).
 *
 * Why: JSONata checks its time limit before each step, but within one second an expression can
 * hold hundreds of megabytes, and a single built-in call is one step however much it allocates.
 * Measured on JSONata 2.2.2 before these bounds (peak RSS, process at 44 MB before):
 * `[1..10000000].($string($))` 231 MB, then the time limit; an infinite self-application
 * `(function($f){ $f($f) })(function($g){ $g($g) })` 336 MB in its second (live memory: with
 * `--max-old-space-size=64` the process died of OOM); `$string([1..10000000])` 650 MB and 2.6 s;
 * `$distinct` of 100,000 numbers 5.2 s in one synchronous step; `$pad("", -100000000, "ab")`
 * killed the process outright (V8 "invalid size error"); `$sort` of 200,000 numbers ran out of a
 * 4 GB heap. With the bounds below each of these ends in an error within a few milliseconds to one
 * second and the message is dead-lettered; the corpus of test/main/engine/hostileInput.test.ts
 * peaks about 200 MB above the engine's RSS with Node's defaults (garbage V8 has not collected
 * yet), 150 MB with the launcher's flags, 50 MB under `--max-old-space-size=64`, where no
 * evaluation reaches V8's own limit.
 */

/** Heap allocated between two collections the budget forces, at least. */
const MIN_COLLECTION_SPACING = 4 * 1024 * 1024;

interface Environment {
  readonly base: object;
}

// ---------------------------------------------------------------------------------------------
// Per-evaluation heap budget.

interface Budget {
  steps: number;
  /** Used heap when the evaluation started (garbage included: lenient by that much). */
  readonly heapAtStart: number;
  /** HEAP_CEILING of V8's heap limit. */
  readonly ceiling: number;
  /** Used heap size past which the next check collects garbage to see what is live. */
  trigger: number;
}

/** Keyed by JSONata's per-evaluation environment (`environment.base`), so evaluations never mix. */
const budgets = new WeakMap<object, Budget>();

const mib = (bytes: number): string => (bytes / 1048576).toFixed(0);

let collector: (() => void) | null | undefined;

/**
 * A full garbage collection, when the heap has grown past the budget: JSONata's promises are
 * mostly garbage by then (a tail-recursive loop makes 60+ MB of it in a second in a process
 * whose V8 collects lazily), so only what survives a collection counts against the budget. V8
 * offers `gc` to a context created after `--expose-gc` is set; without it the used size counts.
 */
function collectGarbage(): void {
  if (collector === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      collector = runInNewContext('gc') as () => void;
    } catch {
      collector = null;
    }
  }
  collector?.();
}

function onEvaluationStep(_expr: unknown, _input: unknown, environment: Environment): void {
  const base = environment.base;
  const budget = budgets.get(base);
  if (budget === undefined) {
    const heap = getHeapStatistics();
    const ceiling = heap.heap_size_limit * HEAP_CEILING;
    const trigger = Math.min(heap.used_heap_size + MAX_EVALUATION_HEAP_GROWTH, ceiling);
    budgets.set(base, { steps: 0, heapAtStart: heap.used_heap_size, ceiling, trigger });
    return;
  }
  if (++budget.steps % HEAP_CHECK_INTERVAL !== 0) return;
  if (getHeapStatistics().used_heap_size <= budget.trigger) return;
  collectGarbage();
  const live = getHeapStatistics().used_heap_size;
  const grown = live - budget.heapAtStart;
  if (grown > MAX_EVALUATION_HEAP_GROWTH) {
    throw new ExpressionLimitError(
      `the evaluation holds ${mib(grown)} MiB more heap after ${budget.steps} steps; the limit is ${mib(MAX_EVALUATION_HEAP_GROWTH)} MiB`,
    );
  }
  if (live > budget.ceiling) {
    throw new ExpressionLimitError(
      `the heap holds ${mib(live)} MiB after ${budget.steps} steps of the evaluation, over ${HEAP_CEILING * 100}% of V8's heap limit`,
    );
  }
  // It was garbage: look again when the rest of the budget (at least a quarter of it) is used,
  // but never sooner than MIN_COLLECTION_SPACING on: back-to-back full collections near the heap
  // limit are what V8 itself reads as running out of memory.
  const rest = budget.heapAtStart + MAX_EVALUATION_HEAP_GROWTH - live;
  budget.trigger = Math.max(
    Math.min(live + Math.max(rest, MAX_EVALUATION_HEAP_GROWTH / 4), budget.ceiling),
    live + MIN_COLLECTION_SPACING,
  );
}

// ---------------------------------------------------------------------------------------------
// The AST: regex literals (checked at load) and `&` (rewritten to the bounded concat).

interface AstNode {
  type?: unknown;
  value?: unknown;
  position?: unknown;
  [key: string]: unknown;
}

function visitAst(root: unknown, visit: (node: AstNode) => void): void {
  const seen = new Set<object>();
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const item = stack.pop();
    if (item === null || typeof item !== 'object' || seen.has(item) || item instanceof RegExp) continue;
    seen.add(item);
    if (Array.isArray(item)) {
      for (const child of item) stack.push(child);
      continue;
    }
    visit(item as AstNode);
    for (const child of Object.values(item)) stack.push(child);
  }
}

/** The `/regex/` literals of an expression's AST, with their positions. */
export function regexLiterals(ast: unknown): { source: string; flags: string; position: number | undefined }[] {
  const found: { source: string; flags: string; position: number | undefined }[] = [];
  visitAst(ast, (node) => {
    if (node.type === 'regex' && node.value instanceof RegExp) {
      found.push({
        source: node.value.source,
        flags: node.value.flags,
        position: typeof node.position === 'number' ? node.position : undefined,
      });
    }
  });
  return found;
}

/**
 * Turns every `lhs & rhs` node into a call of the bounded concat, in place. Only for JSONata's
 * own evaluation: the fast path (fastExpression.ts) was compiled from the AST before and reads no
 * node afterwards.
 */
function rewriteConcatenation(ast: unknown): void {
  visitAst(ast, (node) => {
    if (node.type !== 'binary' || node.value !== '&') return;
    const { lhs, rhs, position } = node;
    delete node.lhs;
    delete node.rhs;
    node.type = 'function';
    node.value = '(';
    node.procedure = { type: 'variable', value: CONCAT_NAME, position };
    node.arguments = [lhs, rhs];
  });
}

/** Installs the bounded built-ins, the heap budget and the bounded `&` on a compiled expression. */
export function installLimits(expression: jsonata.Expression): void {
  for (const name of WRAPPED) expression.assign(name, BOUNDED[name]);
  expression.assign(CONCAT_NAME, concat);
  (expression.assign as (name: string | symbol, value: unknown) => void)(
    Symbol.for('jsonata.__evaluate_entry'),
    onEvaluationStep,
  );
  rewriteConcatenation(expression.ast());
}
