import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  inferPayloads,
  inferSchema,
  MAX_INFER_DEPTH,
  MAX_INFER_SUBSCHEMAS,
} from '../../../../shared/explorer/inferSchema.js';
import { compileUserSchema, userSchemaProblems, validateNode } from '../../../../main/engine/nodes/validateNode.js';

/** What the validate node says about a schema: [] when it accepts it. */
function validateNodeProblems(schema: unknown): unknown[] {
  const check = (validateNode as { check?: (config: never) => unknown[] }).check;
  return [...userSchemaProblems(schema), ...(check?.({ schema, allErrors: true } as never) ?? [])];
}

describe('inferSchema', () => {
  it('merges types into unions, integer vs number, ranges and required', () => {
    const { schema } = inferSchema([
      { id: 1, temp: 20, label: 'a', maybe: null, note: 'x' },
      { id: 2, temp: 21.5, label: 'b', maybe: 3 },
      { id: 3, temp: -4, label: 'c', maybe: 'text' },
    ]);
    assert.deepEqual(schema, {
      type: 'object',
      properties: {
        id: { type: 'integer', minimum: 1, maximum: 3 },
        temp: { type: 'number', minimum: -4, maximum: 21.5 },
        label: { type: 'string' },
        maybe: { type: ['string', 'integer', 'null'], minimum: 3, maximum: 3 },
        note: { type: 'string' },
      },
      required: ['id', 'temp', 'label', 'maybe'],
    });
  });

  it('gives an enum for a small set of strings seen often enough, not otherwise', () => {
    const states = ['on', 'off', 'idle'];
    const many = Array.from({ length: 30 }, (_, i) => ({ state: states[i % 3], name: `device-${i}` }));
    const props = (inferSchema(many).schema as { properties: Record<string, Record<string, unknown>> }).properties;
    assert.deepEqual(props['state'], { type: 'string', enum: ['idle', 'off', 'on'] });
    assert.deepEqual(props['name'], { type: 'string' }, '30 distinct values: no enum');
    const few = (inferSchema([{ s: 'a' }, { s: 'b' }]).schema as { properties: Record<string, unknown> }).properties;
    assert.deepEqual(few['s'], { type: 'string' }, 'two samples say too little');
  });

  it('describes nested objects and arrays (items merged), and stops at the depth bound', () => {
    const { schema } = inferSchema([
      { pos: { lat: 1.5, lon: 2 }, tags: ['a', 'b'], readings: [{ v: 1 }, { v: 2, unit: 'C' }] },
      { pos: { lat: 3, lon: 4.25 }, tags: [], readings: [{ v: 5 }] },
    ]);
    assert.deepEqual(schema, {
      type: 'object',
      properties: {
        pos: {
          type: 'object',
          properties: {
            lat: { type: 'number', minimum: 1.5, maximum: 3 },
            lon: { type: 'number', minimum: 2, maximum: 4.25 },
          },
          required: ['lat', 'lon'],
        },
        tags: { type: 'array', items: { type: 'string' } },
        readings: {
          type: 'array',
          items: {
            type: 'object',
            properties: { v: { type: 'integer', minimum: 1, maximum: 5 }, unit: { type: 'string' } },
            required: ['v'],
          },
        },
      },
      required: ['pos', 'tags', 'readings'],
    });
    let deep: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 40; i++) deep = { child: deep };
    let node = inferSchema([deep]).schema as Record<string, unknown>;
    let depth = 0;
    while (node['properties']) {
      node = (node['properties'] as Record<string, Record<string, unknown>>)['child'] as Record<string, unknown>;
      depth++;
    }
    assert.equal(depth, MAX_INFER_DEPTH);
  });

  it('stays within the validate node limits, and the validate node accepts and applies what it infers', () => {
    // Wide and deep: 60 objects of 300 distinct fields each, nested.
    const wide = Array.from({ length: 60 }, (_, i) => {
      const o: Record<string, unknown> = {};
      for (let k = 0; k < 300; k++) o[`f${i}_${k}`] = { a: { b: [k, { c: 'x' }] } };
      return o;
    });
    const big = inferSchema(wide).schema;
    let count = 0;
    JSON.stringify(big, (_k, v: unknown) => {
      if (v !== null && typeof v === 'object' && !Array.isArray(v) && 'type' in v) count++;
      return v;
    });
    assert.ok(count <= MAX_INFER_SUBSCHEMAS, `${count} subschemas`);
    assert.deepEqual(validateNodeProblems(big), []);

    const samples = [
      { device: 'd1', temp: 20.5, ok: true, mode: 'auto' },
      { device: 'd2', temp: 22, ok: false, mode: 'manual' },
      { device: 'd3', temp: 19, ok: true, mode: 'auto' },
      { device: 'd4', temp: 21, ok: true, mode: 'auto' },
      { device: 'd5', temp: 20, ok: true, mode: 'manual' },
    ];
    const { schema } = inferSchema(samples);
    assert.deepEqual(validateNodeProblems(schema), []);
    const validate = compileUserSchema(schema, true);
    for (const s of samples) assert.equal(validate(s), true, JSON.stringify(s));
    assert.equal(validate({ device: 'd6', temp: 99, ok: true, mode: 'auto' }), false, 'above the observed maximum');
    assert.equal(validate({ device: 'd6', temp: 20, ok: true, mode: 'eco' }), false, 'not one of the enum');
    assert.equal(validate({ temp: 20, ok: true, mode: 'auto' }), false, 'required field missing');
  });

  it('guesses how payloads decode: number, json or text', () => {
    const numbers = inferPayloads(['1', ' 2.5 ', '-3']);
    assert.equal(numbers.decode, 'number');
    assert.deepEqual(numbers.schema, { type: 'number', minimum: -3, maximum: 2.5 });
    const json = inferPayloads(['{"a":1}', '{"a":2}', 'garbage', '{"a":3}']);
    assert.equal(json.decode, 'json');
    assert.equal(json.samples, 4);
    assert.equal(json.skipped, 1);
    assert.deepEqual(json.schema, {
      type: 'object',
      properties: { a: { type: 'integer', minimum: 1, maximum: 3 } },
      required: ['a'],
    });
    const text = inferPayloads(['hello', 'world', '{"a":1}']);
    assert.equal(text.decode, 'text');
    assert.deepEqual(text.schema, { type: 'string' });
    assert.deepEqual(inferSchema([]).schema, {});
  });
});
