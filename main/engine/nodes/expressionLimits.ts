import jsonata from 'jsonata';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

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

/** Longest sequence (array) an evaluation may build: the range operator, paths, `$append`. */
export const MAX_SEQUENCE_LENGTH = 1_000_000;
/**
 * Longest string (UTF-16 units) a built-in function accepts or returns and `&` builds: twice the
 * default `maxPayloadBytes`, so any payload string of a default mqtt-in fits.
 */
export const MAX_STRING_LENGTH = 2 * 1024 * 1024;
/** `$eval` parses at most this many characters (the config's own limit for an expression). */
export const MAX_EVAL_SOURCE_LENGTH = 65_536;
/** Picture strings of `$formatNumber`, `$formatInteger`, `$parseInteger`, `$fromMillis`, `$toMillis`. */
export const MAX_PICTURE_LENGTH = 1024;
/**
 * How much live heap one evaluation may add (checked every HEAP_CHECK_INTERVAL steps; when the
 * used size has grown past it, a full collection tells live data from garbage).
 */
export const MAX_EVALUATION_HEAP_GROWTH = 64 * 1024 * 1024;
/**
 * And however much it added, an evaluation stops once live heap passes this fraction of V8's
 * heap limit, so a process run with a small `--max-old-space-size` (64: about 70 MB of heap in
 * all) ends the evaluation well before V8 ends the process.
 */
export const HEAP_CEILING = 0.5;
/** Heap allocated between two collections the budget forces, at least. */
const MIN_COLLECTION_SPACING = 4 * 1024 * 1024;
/** Evaluation steps between heap checks (a check costs about 0.3 µs). */
export const HEAP_CHECK_INTERVAL = 128;
/**
 * Largest result, as (approximate) JSON bytes, an expression may hand on: the larger of this and
 * twice the message's original payload. A result can reference one value many times, so its
 * serialized size can be exponential in the expression's work; sinks serialize it.
 */
export const MAX_RESULT_BYTES = 16 * 1024 * 1024;
/** Deepest result (and deepest value `$string`/`$clone` serialize): JSON.stringify recurses. */
export const MAX_RESULT_DEPTH = 1024;
/** `$distinct` of values that have no JSON key (functions) compares pairwise; at most this many. */
export const MAX_DISTINCT_PAIRWISE = 1000;

/** A limit above was hit; JSONata adds the position when it comes from a function call. */
export class ExpressionLimitError extends Error {
  constructor(message: string) {
    super(`limit exceeded: ${message}`);
    this.name = 'ExpressionLimitError';
  }
}

interface JsonataFunction {
  readonly _jsonata_function: true;
  readonly implementation: (this: Focus, ...args: unknown[]) => unknown;
  readonly signature?: unknown;
}

interface Focus {
  readonly createSequence: () => unknown[];
}

interface Environment {
  readonly base: object;
}

/** Built-ins replaced or wrapped per compiled expression; the rest are bounded by their inputs. */
const WRAPPED = [
  'string',
  'substring',
  'substringBefore',
  'substringAfter',
  'lowercase',
  'uppercase',
  'length',
  'trim',
  'pad',
  'match',
  'contains',
  'replace',
  'split',
  'join',
  'formatNumber',
  'formatBase',
  'formatInteger',
  'parseInteger',
  'number',
  'base64encode',
  'base64decode',
  'encodeUrlComponent',
  'encodeUrl',
  'decodeUrlComponent',
  'decodeUrl',
  'eval',
  'toMillis',
  'fromMillis',
  'distinct',
  'clone',
  'keys',
  'spread',
  'merge',
  'zip',
  'append',
  'reverse',
  'sort',
  'shuffle',
  'each',
  'sift',
  'lookup',
] as const;
type Wrapped = (typeof WRAPPED)[number];

/** The argument (index) holding a picture string, for the functions that take one. */
const PICTURE_ARGUMENT: Partial<Record<Wrapped, number>> = {
  formatNumber: 1,
  formatInteger: 1,
  parseInteger: 1,
  fromMillis: 1,
  toMillis: 1,
};

// JSONata's built-in function objects, read once; their implementations and parsed signatures
// are reused, so the bounded versions validate arguments exactly as the originals do.
const originals = Object.fromEntries(
  ((await jsonata(`[${WRAPPED.map((name) => `$${name}`).join(', ')}]`).evaluate({})) as JsonataFunction[]).map(
    (fn, i) => [WRAPPED[i] as Wrapped, fn],
  ),
) as Record<Wrapped, JsonataFunction>;

function original(name: Wrapped): JsonataFunction['implementation'] {
  return originals[name].implementation;
}

const isPromise = (value: unknown): value is Promise<unknown> =>
  typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';

function stringTooLong(what: string, length: number): ExpressionLimitError {
  return new ExpressionLimitError(`${what} would be ${length} characters; strings are limited to ${MAX_STRING_LENGTH}`);
}

function checkOutput(name: string, value: unknown): unknown {
  if (typeof value === 'string' && value.length > MAX_STRING_LENGTH)
    throw stringTooLong(`the result of $${name}`, value.length);
  if (Array.isArray(value) && value.length > MAX_SEQUENCE_LENGTH) {
    throw new ExpressionLimitError(
      `$${name} returned ${value.length} items; sequences are limited to ${MAX_SEQUENCE_LENGTH}`,
    );
  }
  return value;
}

/**
 * A built-in with its inputs and output bounded: no string argument over MAX_STRING_LENGTH, a
 * picture no longer than MAX_PICTURE_LENGTH, `before` for what only that function can know, and
 * its result checked (strings and sequences).
 */
function bounded(
  name: Wrapped,
  implementation: JsonataFunction['implementation'] = original(name),
  before?: (args: unknown[]) => void,
): JsonataFunction {
  const picture = PICTURE_ARGUMENT[name];
  function boundedBuiltin(this: Focus, ...args: unknown[]): unknown {
    for (let i = 0; i < args.length; i++) {
      const arg = args[i];
      if (typeof arg !== 'string') continue;
      if (arg.length > MAX_STRING_LENGTH) throw stringTooLong(`argument ${i + 1} of $${name}`, arg.length);
      if (i === picture && arg.length > MAX_PICTURE_LENGTH) {
        throw new ExpressionLimitError(
          `the picture given to $${name} is ${arg.length} characters; the limit is ${MAX_PICTURE_LENGTH}`,
        );
      }
    }
    before?.(args);
    const result = implementation.apply(this, args);
    return isPromise(result) ? result.then((value) => checkOutput(name, value)) : checkOutput(name, result);
  }
  // JSONata reads a native function's arity from `length` (how many arguments `$map` and friends
  // pass) and its parameter names from its source (partial application, `$substring(?, 0, 5)`).
  const source = original(name);
  Object.defineProperty(boundedBuiltin, 'length', { value: source.length });
  Object.defineProperty(boundedBuiltin, 'toString', { value: () => source.toString() });
  return { _jsonata_function: true, implementation: boundedBuiltin, signature: originals[name].signature };
}

// ---------------------------------------------------------------------------------------------
// Code points without an array: JSONata's $length, $substring and $pad split the whole string
// into an array of one-character strings first (`$length` of 8 million characters: 203 MB).

function nextCodePoint(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
    const d = s.charCodeAt(i + 1);
    if (d >= 0xdc00 && d <= 0xdfff) return i + 2;
  }
  return i + 1;
}

/** Code points as `for...of` counts them (a lone surrogate counts as one). */
export function codePointLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i = nextCodePoint(s, i)) n++;
  return n;
}

function offsetAfter(s: string, from: number, codePoints: number): number {
  let i = from;
  for (let k = 0; k < codePoints && i < s.length; k++) i = nextCodePoint(s, i);
  return i;
}

/** Array.prototype.slice's index rules over the string's code points. */
function sliceCodePoints(s: string, length: number, start: number, end?: number): string {
  const index = (value: number): number => (Number.isNaN(value) ? 0 : Math.trunc(value));
  const rel = index(start);
  const from = rel < 0 ? Math.max(length + rel, 0) : Math.min(rel, length);
  const relEnd = end === undefined ? length : index(end);
  const to = relEnd < 0 ? Math.max(length + relEnd, 0) : Math.min(relEnd, length);
  if (from >= to) return '';
  const a = offsetAfter(s, 0, from);
  return s.slice(a, offsetAfter(s, a, to - from));
}

/** JSONata's `substring`, without the array. */
export function substring(str: string | undefined, start: number, length?: number): string | undefined {
  if (str === undefined) return undefined;
  const strLength = codePointLength(str);
  if (strLength + start < 0) start = 0;
  if (length !== undefined) {
    if (length <= 0) return '';
    const end = start >= 0 ? start + length : strLength + start + length;
    return sliceCodePoints(str, strLength, start, end);
  }
  return sliceCodePoints(str, strLength, start);
}

function length(str: string | undefined): number | undefined {
  return str === undefined ? undefined : codePointLength(str);
}

/** JSONata's `pad`, refusing to build more than MAX_STRING_LENGTH characters. */
function pad(str: string | undefined, width: number, char?: string): string | undefined {
  if (str === undefined) return undefined;
  if (char === undefined || char.length === 0) char = ' ';
  width = Math.trunc(width);
  const padLength = Math.abs(width) - codePointLength(str);
  if (!(padLength > 0)) return str;
  const building = padLength * char.length + str.length;
  if (building > MAX_STRING_LENGTH) throw stringTooLong('$pad', building);
  let padding = char.repeat(padLength);
  if (char.length > 1) padding = substring(padding, 0, padLength) as string;
  return width > 0 ? str + padding : padding + str;
}

// ---------------------------------------------------------------------------------------------
// Serialized size, measured without serializing.

const isJsonataFunction = (value: object): boolean =>
  (value as { _jsonata_function?: unknown })._jsonata_function === true ||
  (value as { _jsonata_lambda?: unknown })._jsonata_lambda === true;

function numberBytes(n: number): number {
  if (Number.isInteger(n) && Math.abs(n) < 1e15) {
    let digits = n < 0 ? 2 : 1;
    for (let a = Math.abs(n); a >= 10; a /= 10) digits++;
    return digits;
  }
  return 24;
}

/**
 * Approximately how many bytes `JSON.stringify(value)` would produce (escapes are not counted),
 * without building it; throws ExpressionLimitError past `maxBytes` or deeper than `maxDepth`.
 * Iterative, and a value referenced twice is counted twice, as serializing would.
 */
export function measureJson(value: unknown, maxBytes: number, maxDepth: number, what: string, pretty = false): number {
  let bytes = 0;
  const stack: unknown[] = [value];
  const depths: number[] = [0];
  while (stack.length > 0) {
    const item = stack.pop();
    const depth = depths.pop() as number;
    if (pretty) bytes += depth * 2 + 1;
    if (item === null || item === undefined) bytes += 4;
    else if (typeof item === 'string') bytes += item.length + 2;
    else if (typeof item === 'number') bytes += numberBytes(item);
    else if (typeof item === 'boolean') bytes += 5;
    else if (typeof item === 'function') bytes += 2;
    else if (typeof item === 'object') {
      if (depth >= maxDepth) throw new ExpressionLimitError(`${what} is nested deeper than ${maxDepth} levels`);
      if (ArrayBuffer.isView(item)) bytes += item.byteLength * 4 + 30;
      else if (isJsonataFunction(item)) bytes += 2;
      else if (Array.isArray(item)) {
        bytes += 2 + item.length;
        for (let i = item.length - 1; i >= 0; i--) {
          stack.push(item[i]);
          depths.push(depth + 1);
        }
      } else {
        const keys = Object.keys(item);
        bytes += 2;
        for (const key of keys) {
          bytes += key.length + 4;
          stack.push((item as Record<string, unknown>)[key]);
          depths.push(depth + 1);
        }
      }
    }
    if (bytes > maxBytes) throw new ExpressionLimitError(`${what} would be more than ${maxBytes} bytes as JSON`);
  }
  return bytes;
}

/** `$string` measures first: JSON.stringify of a value built from shared parts can be enormous. */
function stringBefore(args: unknown[]): void {
  const [arg, prettify] = args;
  if (typeof arg === 'string' || arg === undefined) return;
  measureJson(arg, MAX_STRING_LENGTH, MAX_RESULT_DEPTH, 'the result of $string', prettify === true);
}

function joinBefore(args: unknown[]): void {
  const [strs, separator] = args;
  if (!Array.isArray(strs)) return;
  let total = Math.max(0, strs.length - 1) * (typeof separator === 'string' ? separator.length : 0);
  for (const s of strs) if (typeof s === 'string') total += s.length;
  if (total > MAX_STRING_LENGTH) throw stringTooLong('$join', total);
}

/**
 * `$replace` can multiply its input: every match becomes the replacement. The result's length is
 * bounded before replacing: exactly for a string pattern; for a regex, by the matches counted
 * and, per `$n` in the replacement, at most the input's length again (matches do not overlap).
 */
async function replace(this: Focus, ...args: unknown[]): Promise<unknown> {
  const [str, pattern, replacement, limit] = args;
  if (typeof str === 'string' && typeof replacement === 'string' && pattern !== '') {
    const most = typeof limit === 'number' ? limit : Infinity;
    const dollars = replacement.split('$').length - 1;
    const guess = str.length * (1 + dollars) + (str.length + 1) * replacement.length;
    if (guess > MAX_STRING_LENGTH) {
      let count = 0;
      if (typeof pattern === 'string') {
        for (let i = str.indexOf(pattern); i !== -1 && count < most; i = str.indexOf(pattern, i + pattern.length)) {
          count++;
        }
      } else if (typeof pattern === 'function') {
        count = await countMatches(pattern as (...args: unknown[]) => unknown, str, most);
      }
      const bound =
        typeof pattern === 'string'
          ? str.length + count * (replacement.length - pattern.length)
          : str.length * (1 + dollars) + count * replacement.length;
      if (bound > MAX_STRING_LENGTH) throw stringTooLong('$replace', bound);
    }
  }
  return original('replace').apply(this, args);
}

interface RegexMatch {
  readonly next?: () => RegexMatch | undefined;
}

async function countMatches(pattern: (...args: unknown[]) => unknown, str: string, most: number): Promise<number> {
  let count = 0;
  try {
    let match = (await pattern(str)) as RegexMatch | undefined;
    while (match !== undefined && count < most) {
      count++;
      match = match.next?.();
    }
  } catch {
    // The replacement reports its own error (a zero-length match, for one).
  }
  return count;
}

/** `$eval` of a long string parses synchronously. */
function evalBefore(args: unknown[]): void {
  const [source] = args;
  if (typeof source === 'string' && source.length > MAX_EVAL_SOURCE_LENGTH) {
    throw new ExpressionLimitError(`$eval of ${source.length} characters; the limit is ${MAX_EVAL_SOURCE_LENGTH}`);
  }
}

/** `$clone` serializes and parses. */
function cloneBefore(args: unknown[]): void {
  if (args[0] !== undefined) measureJson(args[0], MAX_STRING_LENGTH, MAX_RESULT_DEPTH, 'the value given to $clone');
}

const NO_KEY = Symbol('no key');

/** A string equal for values JSONata's deep equality finds equal (JSON values), or NO_KEY. */
function canonicalKey(value: unknown, budget: { left: number }, depth: number): string | typeof NO_KEY {
  if (depth > MAX_RESULT_DEPTH)
    throw new ExpressionLimitError(`a value given to $distinct is nested deeper than ${MAX_RESULT_DEPTH} levels`);
  if (value === null || typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number') {
    const key = JSON.stringify(value);
    budget.left -= key.length;
    if (budget.left < 0) throw stringTooLong('the values given to $distinct, as JSON,', MAX_STRING_LENGTH + 1);
    return key;
  }
  if (typeof value !== 'object' || ArrayBuffer.isView(value) || isJsonataFunction(value)) return NO_KEY;
  const parts: string[] = [];
  if (Array.isArray(value)) {
    for (const item of value) {
      const key = canonicalKey(item, budget, depth + 1);
      if (key === NO_KEY) return NO_KEY;
      parts.push(key);
    }
    return `[${parts.join(',')}]`;
  }
  for (const name of Object.keys(value).sort()) {
    const key = canonicalKey((value as Record<string, unknown>)[name], budget, depth + 1);
    if (key === NO_KEY) return NO_KEY;
    parts.push(`${JSON.stringify(name)}:${key}`);
  }
  return `{${parts.join(',')}}`;
}

/**
 * JSONata's `$distinct` compares every item with every kept one (100,000 numbers: 5.2 s in one
 * step). Same result in linear time: primitives by value, JSON objects and arrays by a canonical
 * key; values without one (functions) fall back to the original, for at most
 * MAX_DISTINCT_PAIRWISE items.
 */
function distinct(this: Focus, arr: unknown): unknown {
  if (arr === undefined) return undefined;
  if (!Array.isArray(arr) || arr.length <= 1) return arr;
  const results = (arr as { sequence?: boolean }).sequence === true ? this.createSequence() : [];
  const primitives = new Set<unknown>();
  const structures = new Set<string>();
  const budget = { left: MAX_STRING_LENGTH };
  for (const value of arr) {
    if (value === null || typeof value !== 'object') {
      if (typeof value === 'function') return distinctPairwise.call(this, arr);
      if (!primitives.has(value)) {
        primitives.add(value);
        results.push(value);
      }
      continue;
    }
    const key = canonicalKey(value, budget, 0);
    if (key === NO_KEY) return distinctPairwise.call(this, arr);
    if (!structures.has(key)) {
      structures.add(key);
      results.push(value);
    }
  }
  return results;
}

/**
 * JSONata's `$sort` is a merge sort that copies the rest of the array at every step of a merge
 * (`right.slice(1)`), held by suspended async calls: O(n²) memory, outside any evaluation step, so
 * neither the time limit nor the heap budget sees it (200,000 numbers: out of memory at 4 GB).
 * Without a comparator it compares numbers or strings with `>`, which a stable native sort
 * reproduces exactly. With a comparator (a user function, whose steps the limits do see) and for
 * anything else (which JSONata refuses), the original runs.
 */
async function sort(this: Focus, arr: unknown, comparator?: unknown): Promise<unknown> {
  if (comparator === undefined && Array.isArray(arr) && arr.length > 1) {
    const numbers = arr.every((x) => typeof x === 'number' && Number.isFinite(x));
    if (numbers || arr.every((x) => typeof x === 'string')) {
      return (arr as (number | string)[]).slice().sort((a, b) => (a > b ? 1 : a < b ? -1 : 0));
    }
  }
  return original('sort').call(this, arr, comparator);
}

function distinctPairwise(this: Focus, arr: unknown[]): unknown {
  if (arr.length > MAX_DISTINCT_PAIRWISE) {
    throw new ExpressionLimitError(
      `$distinct of ${arr.length} items that are not JSON values; the limit is ${MAX_DISTINCT_PAIRWISE}`,
    );
  }
  return original('distinct').call(this, arr);
}

const BOUNDED: Record<Wrapped, JsonataFunction> = Object.fromEntries(
  WRAPPED.map((name) => [name, bounded(name)]),
) as Record<Wrapped, JsonataFunction>;
BOUNDED.string = bounded('string', original('string'), stringBefore);
BOUNDED.length = bounded('length', length as JsonataFunction['implementation']);
BOUNDED.substring = bounded('substring', substring as JsonataFunction['implementation']);
BOUNDED.pad = bounded('pad', pad as JsonataFunction['implementation']);
BOUNDED.join = bounded('join', original('join'), joinBefore);
BOUNDED.replace = bounded('replace', replace);
BOUNDED.eval = bounded('eval', original('eval'), evalBefore);
BOUNDED.clone = bounded('clone', original('clone'), cloneBefore);
BOUNDED.distinct = bounded('distinct', distinct as JsonataFunction['implementation']);
BOUNDED.sort = bounded('sort', sort as JsonataFunction['implementation']);

/**
 * `a & b`, bounded. JSONata concatenates without limit (V8 builds such strings lazily, so a loop
 * doubling a string reaches hundreds of megabytes cheaply, until something reads it). Bound as a
 * variable no expression can name (`$&` lexes as `$` then `&`).
 */
const CONCAT_NAME = '&';
const concat: JsonataFunction = {
  _jsonata_function: true,
  implementation(this: Focus, lhs: unknown, rhs: unknown): string {
    const text = (value: unknown): string =>
      value === undefined
        ? ''
        : typeof value === 'string'
          ? value
          : (BOUNDED.string.implementation.call(this, value) as string);
    const l = text(lhs);
    const r = text(rhs);
    if (l.length + r.length > MAX_STRING_LENGTH) throw stringTooLong('`&`', l.length + r.length);
    return l + r;
  },
};

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

/** The byte limit for a result, given the message's original payload. */
export function resultLimit(rawBytes: number): number {
  return Math.max(MAX_RESULT_BYTES, 2 * rawBytes);
}

/** Throws ExpressionLimitError when a result is too large or too deep to hand on. */
export function checkResult(value: unknown, rawBytes: number): unknown {
  if (value !== null && typeof value === 'object')
    measureJson(value, resultLimit(rawBytes), MAX_RESULT_DEPTH, 'the result');
  else if (typeof value === 'string' && value.length > resultLimit(rawBytes)) {
    throw new ExpressionLimitError(`the result would be more than ${resultLimit(rawBytes)} bytes as JSON`);
  }
  return value;
}

/** JSONata's D2015 names the attempted size for a range, the limit otherwise: name the limit. */
export function clarifyLimitError(error: unknown): unknown {
  if (error && typeof error === 'object' && (error as { code?: unknown }).code === 'D2015') {
    (error as { message?: string }).message = `The maximum sequence length of ${MAX_SEQUENCE_LENGTH} was exceeded.`;
  }
  return error;
}
