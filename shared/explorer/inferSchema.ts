/**
 * JSON Schema inference from observed payloads (the explorer's "from topic to flow"). Pure: the
 * engine feeds it payload bytes decoded as text, the page may call it too.
 *
 * Written here rather than taken from a library: the well-known generators (genson, quicktype,
 * to-json-schema) either pull in large code generators or do not merge samples into ranges,
 * enums and `required` the way a validate node wants them, and none bounds its output to the
 * validate node's schema limits (main/engine/nodes/userSchemaLimits.ts).
 *
 * The output is the subset that draft-07 and draft 2020-12 read the same way: `type` (an array
 * for unions), `properties`, `required`, `items` (one schema, every element merged),
 * `minimum`/`maximum`, `enum`. `additionalProperties` is left open so a new field is not an error.
 */

/** Most samples looked at; more are ignored (counted in `samples` but not merged). */
export const MAX_INFER_SAMPLES = 1000;
/** Deepest nesting described; deeper values get `{}` (anything). */
export const MAX_INFER_DEPTH = 10;
/** Properties described per object; the rest are allowed but not described. */
export const MAX_INFER_PROPERTIES = 200;
/** Subschemas emitted in all (the validate node accepts 1,000). */
export const MAX_INFER_SUBSCHEMAS = 900;
/** A string field becomes an enum when it took at most this many distinct values... */
export const MAX_ENUM_VALUES = 10;
/** ...over at least this many samples (fewer samples say too little about the set). */
export const MIN_ENUM_SAMPLES = 5;
/** Strings longer than this are never enum values. */
const MAX_ENUM_VALUE_LENGTH = 100;

type JsonType = 'null' | 'boolean' | 'integer' | 'number' | 'string' | 'array' | 'object';

/** What was seen at one place in the payloads, merged over every sample. */
interface Shape {
  seen: number;
  types: Set<JsonType>;
  min: number;
  max: number;
  /** Distinct string values, until there are more than MAX_ENUM_VALUES (then undefined). */
  strings: Set<string> | undefined;
  stringCount: number;
  objects: number;
  properties: Map<string, Shape>;
  /** Properties not described because of MAX_INFER_PROPERTIES. */
  items: Shape | undefined;
}

function newShape(): Shape {
  return {
    seen: 0,
    types: new Set(),
    min: Infinity,
    max: -Infinity,
    strings: new Set(),
    stringCount: 0,
    objects: 0,
    properties: new Map(),
    items: undefined,
  };
}

function merge(shape: Shape, value: unknown, depth: number): void {
  shape.seen++;
  if (value === null) {
    shape.types.add('null');
  } else if (typeof value === 'boolean') {
    shape.types.add('boolean');
  } else if (typeof value === 'number') {
    shape.types.add(Number.isInteger(value) ? 'integer' : 'number');
    if (value < shape.min) shape.min = value;
    if (value > shape.max) shape.max = value;
  } else if (typeof value === 'string') {
    shape.types.add('string');
    shape.stringCount++;
    if (shape.strings) {
      if (value.length > MAX_ENUM_VALUE_LENGTH) shape.strings = undefined;
      else {
        shape.strings.add(value);
        if (shape.strings.size > MAX_ENUM_VALUES) shape.strings = undefined;
      }
    }
  } else if (Array.isArray(value)) {
    shape.types.add('array');
    if (depth >= MAX_INFER_DEPTH) return;
    shape.items ??= newShape();
    for (const item of value) merge(shape.items, item, depth + 1);
  } else if (typeof value === 'object') {
    shape.types.add('object');
    shape.objects++;
    if (depth >= MAX_INFER_DEPTH) return;
    for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
      let property = shape.properties.get(key);
      if (!property) {
        if (shape.properties.size >= MAX_INFER_PROPERTIES) continue;
        property = newShape();
        shape.properties.set(key, property);
      }
      merge(property, child, depth + 1);
    }
  }
}

/** Emits the schema of a shape, spending at most `budget.left` subschemas. */
function emit(shape: Shape, budget: { left: number }): Record<string, unknown> {
  budget.left--;
  const schema: Record<string, unknown> = {};
  const types = [...shape.types];
  // An integer seen next to a fractional number is a number.
  const hasNumber = types.includes('number');
  const list = types.filter((t) => !(hasNumber && t === 'integer'));
  const order: JsonType[] = ['object', 'array', 'string', 'number', 'integer', 'boolean', 'null'];
  list.sort((a, b) => order.indexOf(a) - order.indexOf(b));
  if (list.length === 1) schema['type'] = list[0];
  else if (list.length > 1) schema['type'] = list;

  if (list.includes('number') || list.includes('integer')) {
    if (Number.isFinite(shape.min)) schema['minimum'] = shape.min;
    if (Number.isFinite(shape.max)) schema['maximum'] = shape.max;
  }
  if (list.length === 1 && list[0] === 'string' && shape.strings && shape.stringCount >= MIN_ENUM_SAMPLES) {
    schema['enum'] = [...shape.strings].sort();
  }
  if (list.includes('object') && shape.properties.size > 0) {
    const properties: Record<string, unknown> = {};
    const required: string[] = [];
    for (const [key, child] of shape.properties) {
      if (budget.left <= 0) break;
      properties[key] = emit(child, budget);
      // Present in every object sample: required.
      if (child.seen === shape.objects) required.push(key);
    }
    schema['properties'] = properties;
    if (required.length > 0) schema['required'] = required;
  }
  if (list.includes('array') && shape.items && shape.items.seen > 0 && budget.left > 0) {
    schema['items'] = emit(shape.items, budget);
  }
  return schema;
}

export interface InferenceResult {
  readonly schema: Record<string, unknown>;
  /** Values merged (at most MAX_INFER_SAMPLES). */
  readonly merged: number;
}

/** Infers one schema from parsed JSON values (objects, arrays, scalars); bounded in depth, size and samples. */
export function inferSchema(values: readonly unknown[]): InferenceResult {
  const root = newShape();
  const merged = Math.min(values.length, MAX_INFER_SAMPLES);
  for (let i = 0; i < merged; i++) merge(root, values[i], 0);
  if (merged === 0) return { schema: {}, merged };
  return { schema: emit(root, { left: MAX_INFER_SUBSCHEMAS }), merged };
}

export type PayloadDecode = 'json' | 'number' | 'text';

export interface PayloadInference {
  readonly schema: Record<string, unknown>;
  /** Payloads looked at. */
  readonly samples: number;
  /** Payloads not used for the schema: not JSON objects (for `json`), not numbers (for `number`). */
  readonly skipped: number;
  readonly decode: PayloadDecode;
}

const NUMBER_TEXT = /^\s*-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?\s*$/;

/**
 * Guesses how payloads decode and infers their schema. `number` when every payload is a number
 * in text; `json` when most payloads are JSON objects or arrays; else `text`. The schema
 * describes the decoded values an mqtt-in node with that `decode` would pass on.
 */
export function inferPayloads(texts: readonly string[]): PayloadInference {
  const samples = Math.min(texts.length, MAX_INFER_SAMPLES);
  const numbers: number[] = [];
  const structured: unknown[] = [];
  for (let i = 0; i < samples; i++) {
    const text = texts[i] as string;
    if (NUMBER_TEXT.test(text)) {
      const value = Number(text);
      if (Number.isFinite(value)) numbers.push(value);
      continue;
    }
    const first = text.trimStart().charCodeAt(0);
    if (first !== 123 /* { */ && first !== 91 /* [ */) continue;
    try {
      structured.push(JSON.parse(text));
    } catch {
      // Not JSON: counts against `json`.
    }
  }
  if (samples > 0 && numbers.length === samples) {
    return { schema: inferSchema(numbers).schema, samples, skipped: 0, decode: 'number' };
  }
  if (structured.length > 0 && structured.length * 2 >= samples) {
    return { schema: inferSchema(structured).schema, samples, skipped: samples - structured.length, decode: 'json' };
  }
  return { schema: { type: 'string' }, samples, skipped: 0, decode: 'text' };
}
