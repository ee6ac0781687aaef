/**
 * The limits on user JSONata expressions, and the size checks shared by the bounded built-ins
 * (boundedBuiltins.ts) and the per-evaluation guard (expressionLimits.ts, which explains why).
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

// ---------------------------------------------------------------------------------------------
// Serialized size, measured without serializing.

export const isJsonataFunction = (value: object): boolean =>
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
