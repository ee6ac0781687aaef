import jsonata from 'jsonata';
import {
  ExpressionLimitError,
  isJsonataFunction,
  MAX_DISTINCT_PAIRWISE,
  MAX_EVAL_SOURCE_LENGTH,
  MAX_PICTURE_LENGTH,
  MAX_RESULT_DEPTH,
  MAX_SEQUENCE_LENGTH,
  MAX_STRING_LENGTH,
  measureJson,
} from './expressionBounds.js';

/**
 * JSONata's built-ins with their inputs and outputs bounded, and linear versions of those that
 * are not (`$sort`, `$distinct`, `$pad`, `$substring`, `$length`). Installed on every compiled
 * expression by installLimits (expressionLimits.ts).
 */

export interface JsonataFunction {
  readonly _jsonata_function: true;
  readonly implementation: (this: Focus, ...args: unknown[]) => unknown;
  readonly signature?: unknown;
}

export interface Focus {
  readonly createSequence: () => unknown[];
}

/** Built-ins replaced or wrapped per compiled expression; the rest are bounded by their inputs. */
export const WRAPPED = [
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
export type Wrapped = (typeof WRAPPED)[number];

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

export const BOUNDED: Record<Wrapped, JsonataFunction> = Object.fromEntries(
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
export const CONCAT_NAME = '&';
export const concat: JsonataFunction = {
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
