import { isUtf8 } from 'node:buffer';
import secureJson from 'secure-json-parse';
import type { PAYLOAD_DECODINGS } from '../../../shared/nodes/mqttIn.js';

export type PayloadDecoding = (typeof PAYLOAD_DECODINGS)[number];

/** A payload that cannot be decoded as asked; the message becomes a dead letter with this reason. */
export class PayloadError extends Error {}

const NUMBER = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/;
const PARSE_OPTIONS = { protoAction: 'error', constructorAction: 'error' } as const;

/**
 * Decodes MQTT payload bytes. `auto` tries JSON, then a plain ASCII number (`22.4`), then text.
 * JSON is parsed by secure-json-parse, which refuses `__proto__` and `constructor.prototype`
 * keys, and only after a depth check so 10,000-deep nesting never reaches a recursive consumer.
 */
export function decodePayload(raw: Buffer, decoding: PayloadDecoding, maxDepth: number): unknown {
  if (decoding === 'binary') return raw;
  if (raw.length === 0) {
    if (decoding === 'text') return '';
    throw new PayloadError('empty payload');
  }
  if (!isUtf8(raw)) throw new PayloadError('payload is not valid UTF-8');
  const text = raw.toString('utf8');
  switch (decoding) {
    case 'text':
      return text;
    case 'number':
      return parseNumber(text);
    case 'json':
      try {
        return parseJson(text, maxDepth);
      } catch (error) {
        if (error instanceof PayloadError) throw error;
        throw new PayloadError(`malformed JSON: ${(error as Error).message}`);
      }
    case 'auto': {
      const first = firstSignificant(text);
      // Only text that can begin a JSON value is tried as JSON: the common case costs one parse.
      if (
        first === 123 ||
        first === 91 ||
        first === 34 ||
        first === 116 ||
        first === 102 ||
        first === 110 ||
        first === 45 ||
        (first >= 48 && first <= 57)
      ) {
        try {
          return parseJson(text, maxDepth);
        } catch (error) {
          if (error instanceof PayloadError) throw error;
          if (NUMBER.test(text)) return Number(text);
          return text;
        }
      }
      return NUMBER.test(text) ? Number(text) : text;
    }
  }
}

function parseNumber(text: string): number {
  if (!NUMBER.test(text)) throw new PayloadError(`payload is not a number: ${JSON.stringify(text.slice(0, 40))}`);
  const value = Number(text);
  if (!Number.isFinite(value)) throw new PayloadError('payload is a number too large to represent');
  return value;
}

/** Only text with a long digit run or a 3-digit exponent can hold a number beyond a double. */
const MAYBE_HUGE_NUMBER = /\d{300}|[eE][+]?\d{3}/;

function parseJson(text: string, maxDepth: number): unknown {
  if (exceedsDepth(text, maxDepth)) throw new PayloadError(`JSON nested deeper than ${maxDepth} levels`);
  let value: unknown;
  try {
    value = secureJson.parse(text, undefined, PARSE_OPTIONS);
  } catch (error) {
    const message = (error as Error).message;
    if (/forbidden|prototype/i.test(message)) throw new PayloadError(`refused JSON: ${message}`);
    throw new SyntaxError(message);
  }
  // JSON.parse turns 1e400 into Infinity, which JSON cannot hold: it would be stored as null.
  if (MAYBE_HUGE_NUMBER.test(text) && holdsNonFinite(value)) {
    throw new PayloadError('JSON holds a number too large to represent');
  }
  return value;
}

function holdsNonFinite(value: unknown): boolean {
  if (typeof value === 'number') return !Number.isFinite(value);
  if (value === null || typeof value !== 'object') return false;
  return Object.values(value).some(holdsNonFinite);
}

function firstSignificant(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13 && c !== 0xfeff) return c;
  }
  return -1;
}

/**
 * Scans JSON text for nesting deeper than `max`, skipping strings. Written here because JSON.parse
 * has no depth limit and a parse-then-walk would already have paid for the deep structure.
 */
export function exceedsDepth(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++;
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > max) return true;
    } else if (c === 125 || c === 93) depth--;
  }
  return false;
}
