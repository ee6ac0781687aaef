import type { FlowMessage } from '../../../shared/message.js';

/**
 * A synchronous evaluator for the everyday subset of JSONata: field paths, the message variables,
 * literals, object constructors, arithmetic, comparisons, `and`/`or`, `? :` and `&`.
 *
 * Why by hand: JSONata 2 evaluates every AST node through an async function, so one
 * `{ "t": temperature, ... }` costs dozens of promises and about 80 KB of garbage per message
 * (measured: 515 scavenges for 50,000 evaluations). That garbage, not live data, drove the
 * engine's peak RSS to 240 MB in `npm run bench`. No library evaluates JSONata synchronously.
 *
 * Exactness: this is only a shortcut. Whenever a value leaves the plain cases (an array, which
 * JSONata maps over; a non-number in arithmetic, which JSONata rejects with an error; a
 * non-finite result; an object in `=`), the evaluator answers FALLBACK and the caller evaluates
 * the same expression with JSONata itself, so results and errors are JSONata's by construction.
 * `test/main/engine/fastExpression.test.ts` checks both agree on generated expressions and inputs.
 */
export const FALLBACK: unique symbol = Symbol('fallback');

export type FastEvaluator = (input: unknown, message: FlowMessage) => unknown;

/** The variables `bindingsFor` gives JSONata, read straight from the message. */
const VARIABLES: Record<string, (message: FlowMessage) => unknown> = {
  topic: (m) => m.topic,
  params: (m) => m.params,
  qos: (m) => m.qos,
  receivedAt: (m) => m.receivedAt,
  id: (m) => m.id,
};

interface AstNode {
  readonly type: string;
  readonly value?: unknown;
  readonly position?: number;
  readonly lhs?: unknown;
  readonly rhs?: AstNode;
  readonly expression?: AstNode;
  readonly expressions?: readonly AstNode[];
  readonly steps?: readonly AstNode[];
  readonly condition?: AstNode;
  readonly then?: AstNode;
  readonly else?: AstNode;
}

/** Keys a node may carry; any other (predicate, stages, group, focus, keepArray ...) means "not ours". */
const PLAIN_KEYS = new Set([
  'type',
  'value',
  'position',
  'lhs',
  'rhs',
  'expression',
  'expressions',
  'steps',
  'condition',
  'then',
  'else',
]);

class NotCompilable extends Error {}

const own = Object.prototype.hasOwnProperty;

/** Returns an evaluator for `ast`, or undefined when the expression is outside the subset. */
export function compileFast(ast: unknown): FastEvaluator | undefined {
  try {
    return compileNode(ast);
  } catch (error) {
    if (error instanceof NotCompilable) return undefined;
    throw error;
  }
}

function compileNode(raw: unknown): FastEvaluator {
  if (raw === null || typeof raw !== 'object') throw new NotCompilable();
  for (const key of Object.keys(raw)) if (!PLAIN_KEYS.has(key)) throw new NotCompilable();
  const node = raw as AstNode;
  switch (node.type) {
    case 'string':
    case 'number':
    case 'value': {
      const value = node.value;
      return () => value;
    }
    case 'variable':
      return compileVariable(node);
    case 'path':
      return compilePath(node);
    case 'block':
      return compileBlock(node);
    case 'binary':
      return compileBinary(node);
    case 'unary':
      return node.value === '{' ? compileObject(node) : node.value === '-' ? compileNegate(node) : notOurs();
    case 'condition':
      return compileCondition(node);
    default:
      return notOurs();
  }
}

function notOurs(): never {
  throw new NotCompilable();
}

function compileVariable(node: AstNode): FastEvaluator {
  if (node.value === '') return (input) => (Array.isArray(input) ? FALLBACK : input);
  const read = typeof node.value === 'string' && own.call(VARIABLES, node.value) ? VARIABLES[node.value] : undefined;
  if (!read) return notOurs();
  return (_input, message) => {
    const value = read(message);
    return Array.isArray(value) ? FALLBACK : value;
  };
}

/** Field lookup as JSONata's `lookup` does it on a single (non-array) value. */
function field(value: unknown, name: string): unknown {
  if (value === null || typeof value !== 'object' || !own.call(value, name)) return undefined;
  const next = (value as Record<string, unknown>)[name];
  return Array.isArray(next) ? FALLBACK : next;
}

function compilePath(node: AstNode): FastEvaluator {
  const steps = node.steps ?? notOurs();
  if (steps.length === 0) return notOurs();
  const names: string[] = [];
  let start: FastEvaluator | undefined;
  steps.forEach((step, index) => {
    for (const key of Object.keys(step)) if (!PLAIN_KEYS.has(key)) notOurs();
    if (index === 0 && step.type === 'variable') start = compileVariable(step);
    else if (step.type === 'name' && typeof step.value === 'string') names.push(step.value);
    else notOurs();
  });
  const first = start;
  return (input, message) => {
    let value: unknown;
    if (first) {
      value = first(input, message);
    } else {
      if (Array.isArray(input)) return FALLBACK;
      value = input;
    }
    if (value === FALLBACK) return FALLBACK;
    for (let i = 0; i < names.length; i++) {
      if (value === undefined) return undefined;
      value = field(value, names[i] as string);
      if (value === FALLBACK) return FALLBACK;
    }
    return value;
  };
}

function compileBlock(node: AstNode): FastEvaluator {
  const parts = (node.expressions ?? notOurs()).map(compileNode);
  return (input, message) => {
    let result: unknown;
    for (const part of parts) {
      result = part(input, message);
      if (result === FALLBACK) return FALLBACK;
    }
    return result;
  };
}

/** A finite number, undefined (absent), or FALLBACK for anything JSONata would reject. */
function numeric(value: unknown): number | undefined | typeof FALLBACK {
  if (value === undefined || value === FALLBACK) return value;
  return typeof value === 'number' && Number.isFinite(value) ? value : FALLBACK;
}

/** JSONata's effective boolean value for the scalar cases; FALLBACK for arrays and objects. */
function truthy(value: unknown): boolean | typeof FALLBACK {
  if (value === undefined || value === null) return false;
  switch (typeof value) {
    case 'boolean':
      return value;
    case 'string':
      return value.length > 0;
    case 'number':
      return Number.isFinite(value) ? value !== 0 : FALLBACK;
    default:
      return FALLBACK;
  }
}

/** JSONata's `$string` for the scalar cases; FALLBACK for arrays and objects. */
function text(value: unknown): string | typeof FALLBACK {
  if (value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return FALLBACK;
    return JSON.stringify(Number.isInteger(value) ? value : Number(value.toPrecision(15)));
  }
  if (typeof value === 'boolean' || value === null) return JSON.stringify(value);
  return FALLBACK;
}

function finite(result: number): number | typeof FALLBACK {
  return Number.isFinite(result) ? result : FALLBACK;
}

type Binary = (lhs: unknown, rhs: unknown) => unknown;

function arithmetic(op: (a: number, b: number) => number): Binary {
  return (lhs, rhs) => {
    const a = numeric(lhs);
    const b = numeric(rhs);
    if (a === FALLBACK || b === FALLBACK) return FALLBACK;
    if (a === undefined || b === undefined) return undefined;
    return finite(op(a, b));
  };
}

function scalar(value: unknown): boolean {
  return value === null || typeof value !== 'object';
}

function comparison(op: (a: number | string, b: number | string) => boolean): Binary {
  return (lhs, rhs) => {
    const lt = typeof lhs;
    const rt = typeof rhs;
    const lok = lt === 'undefined' || lt === 'string' || (lt === 'number' && Number.isFinite(lhs));
    const rok = rt === 'undefined' || rt === 'string' || (rt === 'number' && Number.isFinite(rhs));
    if (!lok || !rok) return FALLBACK;
    if (lhs === undefined || rhs === undefined) return undefined;
    if (lt !== rt) return FALLBACK;
    return op(lhs as number | string, rhs as number | string);
  };
}

const BINARY: Record<string, Binary> = {
  '+': arithmetic((a, b) => a + b),
  '-': arithmetic((a, b) => a - b),
  '*': arithmetic((a, b) => a * b),
  '/': arithmetic((a, b) => a / b),
  '%': arithmetic((a, b) => a % b),
  '=': (lhs, rhs) => {
    if (lhs === undefined || rhs === undefined) return false;
    return scalar(lhs) && scalar(rhs) ? lhs === rhs : FALLBACK;
  },
  '!=': (lhs, rhs) => {
    if (lhs === undefined || rhs === undefined) return false;
    return scalar(lhs) && scalar(rhs) ? lhs !== rhs : FALLBACK;
  },
  '<': comparison((a, b) => a < b),
  '<=': comparison((a, b) => a <= b),
  '>': comparison((a, b) => a > b),
  '>=': comparison((a, b) => a >= b),
  '&': (lhs, rhs) => {
    const a = text(lhs);
    const b = text(rhs);
    return a === FALLBACK || b === FALLBACK ? FALLBACK : a + b;
  },
};

function compileBinary(node: AstNode): FastEvaluator {
  const lhs = compileNode(node.lhs);
  const rhs = compileNode(node.rhs);
  const op = node.value;
  if (op === 'and' || op === 'or') {
    const wanted = op === 'or';
    // Short-circuits like JSONata: the right side is only evaluated when it decides the result.
    return (input, message) => {
      const left = lhs(input, message);
      if (left === FALLBACK) return FALLBACK;
      const l = truthy(left);
      if (l === FALLBACK) return FALLBACK;
      if (l === wanted) return l;
      const right = rhs(input, message);
      return right === FALLBACK ? FALLBACK : truthy(right);
    };
  }
  const apply = typeof op === 'string' && own.call(BINARY, op) ? BINARY[op] : undefined;
  if (!apply) return notOurs();
  return (input, message) => {
    const left = lhs(input, message);
    if (left === FALLBACK) return FALLBACK;
    const right = rhs(input, message);
    if (right === FALLBACK) return FALLBACK;
    return apply(left, right);
  };
}

function compileNegate(node: AstNode): FastEvaluator {
  const operand = compileNode(node.expression);
  return (input, message) => {
    const value = numeric(operand(input, message));
    return value === undefined || value === FALLBACK ? value : -value;
  };
}

function compileCondition(node: AstNode): FastEvaluator {
  const condition = compileNode(node.condition);
  const then = compileNode(node.then);
  const otherwise = node.else === undefined ? undefined : compileNode(node.else);
  return (input, message) => {
    const c = truthy(condition(input, message));
    if (c === FALLBACK) return FALLBACK;
    if (c) return then(input, message);
    return otherwise ? otherwise(input, message) : undefined;
  };
}

/**
 * `{ "key": value, ... }` with literal keys. JSONata builds it on a null-prototype object; this
 * builds a plain one, which V8 keeps in fast mode (a tenth of the garbage, measured). Nothing in
 * the engine can tell them apart: JSONata and `readPath` look up own properties only.
 */
function compileObject(node: AstNode): FastEvaluator {
  const pairs = node.lhs;
  if (!Array.isArray(pairs)) return notOurs();
  const keys: string[] = [];
  const values: FastEvaluator[] = [];
  for (const pair of pairs as unknown[]) {
    if (!Array.isArray(pair) || pair.length !== 2) return notOurs();
    const key = pair[0] as AstNode;
    if (key.type !== 'string' || typeof key.value !== 'string' || keys.includes(key.value)) return notOurs();
    if (key.value === '_jsonata_lambda' || key.value === '_jsonata_function') return notOurs();
    keys.push(key.value);
    values.push(compileNode(pair[1]));
  }
  return (input, message) => {
    if (Array.isArray(input)) return FALLBACK;
    const result: Record<string, unknown> = {};
    for (let i = 0; i < keys.length; i++) {
      const value = (values[i] as FastEvaluator)(input, message);
      if (value === FALLBACK) return FALLBACK;
      if (value !== undefined) result[keys[i] as string] = value;
    }
    return result;
  };
}
