import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import jsonata from 'jsonata';
import type { FlowMessage } from '../../../../shared/message.js';
import { compileFast, FALLBACK } from '../../../../main/engine/nodes/fastExpression.js';
import { bindingsFor, compileExpression } from '../../../../main/engine/nodes/jsonataExpression.js';
import { mulberry32 } from '../../../../main/engine/simulator/fleetModel.js';

const message = (payload: unknown): FlowMessage =>
  ({
    id: 'm-1',
    topic: 'fleet/dev-1/telemetry',
    params: { device: 'dev-1' },
    qos: 1,
    receivedAt: 1732200000000,
    payload,
  }) as unknown as FlowMessage;

type Outcome = { value: unknown } | { error: string };

/** JSONata's objects have a null prototype, the shortcut's a plain one; nothing else may differ. */
function plain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plain);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
}

async function byJsonata(source: string, input: unknown): Promise<Outcome> {
  try {
    return { value: plain(await jsonata(source).evaluate(input, bindingsFor(message(input)))) };
  } catch (error) {
    return { error: (error as { code?: string }).code ?? String(error) };
  }
}

/** Random expressions over the subset's grammar, plus a few things outside it. */
function expressionGenerator(random: () => number): () => string {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const fields = ['a', 'b', 's', 'n', 'o', 'arr', 'missing', 'o.x', 'o.y.z', 'arr.x', 'nil', 't', '`sp ace`'];
  const literals = ['1', '0', '2.5', '-3', '"x"', '""', 'true', 'false', 'null', '1e308'];
  const variables = ['$topic', '$qos', '$params.device', '$params.nothing', '$receivedAt', '$id', '$', '$.a'];
  const ops = ['+', '-', '*', '/', '%', '=', '!=', '<', '<=', '>', '>=', '&', 'and', 'or'];
  const gen = (depth: number): string => {
    const r = random();
    if (depth <= 0 || r < 0.3) return pick([...fields, ...literals, ...variables]);
    if (r < 0.65) return `${gen(depth - 1)} ${pick(ops)} ${gen(depth - 1)}`;
    if (r < 0.72) return `(${gen(depth - 1)})`;
    if (r < 0.78) return `-${gen(depth - 1)}`;
    if (r < 0.85) return `${gen(depth - 1)} ? ${gen(depth - 1)} : ${gen(depth - 1)}`;
    if (r < 0.88) return `${gen(depth - 1)} ? ${gen(depth - 1)}`;
    if (r < 0.97) {
      const n = 1 + Math.floor(random() * 3);
      const pairs = Array.from({ length: n }, (_, i) => `"k${i}": ${gen(depth - 1)}`);
      return `{ ${pairs.join(', ')} }`;
    }
    return pick(['$string(a)', 'arr[0]', 'o{"g": x}', '[a, b]']);
  };
  return () => gen(3);
}

function inputGenerator(random: () => number): () => unknown {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const scalars = [0, 1, -2.5, 1e308, 0.1, 'txt', '', true, false, null, 'dev-1'];
  return () => {
    if (random() < 0.05) return [{ a: 1 }, { a: 2 }];
    if (random() < 0.03) return pick(scalars);
    const value: Record<string, unknown> = {};
    for (const key of ['a', 'b', 's', 'n', 't', 'nil', 'sp ace']) if (random() < 0.8) value[key] = pick(scalars);
    if (random() < 0.7) value['o'] = { x: pick(scalars), y: random() < 0.5 ? { z: pick(scalars) } : pick(scalars) };
    if (random() < 0.3) value['arr'] = [{ x: 1 }, { x: 2 }];
    return value;
  };
}

describe('fast expression evaluator', () => {
  it('agrees with JSONata on generated expressions and inputs', async () => {
    const random = mulberry32(2026);
    const nextExpression = expressionGenerator(random);
    const nextInput = inputGenerator(random);
    let fastAnswers = 0;
    let total = 0;
    for (let e = 0; e < 400; e++) {
      const source = nextExpression();
      const fast = compileFast(jsonata(source).ast());
      for (let i = 0; i < 10; i++) {
        const input = nextInput();
        total++;
        const expected = await byJsonata(source, input);
        if (!fast) continue;
        const got = fast(input, message(input));
        if (got === FALLBACK) continue;
        fastAnswers++;
        assert.deepEqual(
          { value: got },
          expected,
          `${source} on ${JSON.stringify(input)}: fast gave ${JSON.stringify(got)}, JSONata ${JSON.stringify(expected)}`,
        );
      }
    }
    // Not vacuous: many generated cases are answered by the shortcut (the rest mix types so that
    // JSONata raises an error, which the shortcut leaves to it).
    assert.ok(fastAnswers > total * 0.4, `fast path answered ${fastAnswers} of ${total}`);
  });

  it('builds objects as JSONata does, absent values left out, on a plain prototype', async () => {
    const source = '{ "device": deviceId, "dew": temperature - (100 - humidity) / 5, "none": nothing }';
    const input = { deviceId: 'dev-17', temperature: 22.41, humidity: 39.7 };
    const fast = compileFast(jsonata(source).ast());
    assert.ok(fast);
    const value = fast(input, message(input));
    assert.deepEqual(value, plain(await jsonata(source).evaluate(input)));
    assert.equal(Object.getPrototypeOf(value), Object.prototype);
    assert.deepEqual(Object.keys(value as object), ['device', 'dew']);
  });

  it('leaves everything outside the subset to JSONata', () => {
    for (const source of [
      '$string(a)',
      'a[0]',
      'a[x > 1]',
      'a.b{"k": c}',
      '[a, b]',
      '$sum(values)',
      'a ~> $uppercase()',
      '$x := 1',
      '**.a',
      'a.*',
      '$unknownVariable',
      '{ "k": 1, "k": 2 }',
      '{ a: b }',
      'a in [1, 2]',
      '[1..3]',
    ]) {
      assert.equal(compileFast(jsonata(source).ast()), undefined, source);
    }
  });

  it('defers to JSONata whenever a value leaves the plain cases', () => {
    const cases: [string, unknown][] = [
      ['a + 1', { a: 'text' }],
      ['a.b', { a: [{ b: 1 }, { b: 2 }] }],
      ['a', [{ a: 1 }]],
      ['a / b', { a: 1, b: 0 }],
      ['a = b', { a: { x: 1 }, b: { x: 1 } }],
      ['a < b', { a: 1, b: 'x' }],
      ['a and b', { a: [true], b: true }],
      ['a & b', { a: { x: 1 }, b: 'y' }],
    ];
    for (const [source, input] of cases) {
      const fast = compileFast(jsonata(source).ast());
      assert.ok(fast, source);
      assert.equal(fast(input, message(input)), FALLBACK, `${source} on ${JSON.stringify(input)}`);
    }
  });

  it('is used by the engine for the expressions flows use most', () => {
    assert.ok(
      compileExpression(
        '{ "device": deviceId, "ts": ts, "temperature": temperature, "humidity": humidity, "seq": seq, "dewPoint": temperature - (100 - humidity) / 5 }',
      ).fast,
    );
    assert.ok(compileExpression('payload.temperature > 30 and $params.device != "dev-0"').fast);
  });
});
