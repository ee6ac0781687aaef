/**
 * A corpus of hostile input against a real engine and a real broker: bad payloads, hostile JSON
 * Schemas and hostile JSONata expressions. Each must end in a clear dead letter or a clear load
 * error, the process must stay up, later messages must still flow, and memory must stay bounded.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import jsonata from 'jsonata';
import type { FlowMessage } from '../../../shared/message.js';
import { checkFlow } from '../../../main/engine/flowLoader.js';
import {
  MAX_EVALUATION_HEAP_GROWTH,
  MAX_RESULT_BYTES,
  MAX_SEQUENCE_LENGTH,
  MAX_STRING_LENGTH,
} from '../../../main/engine/nodes/expressionLimits.js';
import {
  compileExpression,
  evaluateExpression,
  EXPRESSION_MAX_STACK,
  EXPRESSION_TIMEOUT_MS,
} from '../../../main/engine/nodes/jsonataExpression.js';
import { MAX_REGEX_QUANTIFIERS } from '../../../main/engine/nodes/safeRegex.js';
import {
  MAX_EXPANDED_SUBSCHEMAS,
  MAX_SCHEMA_DEPTH,
  MAX_SUBSCHEMAS,
} from '../../../main/engine/nodes/userSchemaLimits.js';
import { compileUserSchema, MAX_SCHEMA_BYTES } from '../../../main/engine/nodes/validateNode.js';
import { transformSpec } from '../../../shared/nodes/transform.js';
import { validateSpec } from '../../../shared/nodes/validate.js';
import { brokerFixture } from '../../helpers/brokerFixture.js';
import { flowOf } from '../../helpers/engineHarness.js';
import { waitFor } from '../../helpers/waitFor.js';
import { startFlow, waitForRows, type DeadLetterRow, type RunningFlow } from './engineTestKit.js';

const fixture = brokerFixture();

/**
 * Peak RSS may grow by at most this much while the expression corpus runs. Before the limits,
 * single expressions of the corpus took 230–650 MB each (`$string([1..10000000])` 650 MB) and one
 * (`$pad("", -100000000, "ab")`) killed the process; with them the corpus peaks about 200 MB
 * above the engine's own footprint at Node's default heap size (V8 collects lazily), 150 MB with
 * the launcher's flags, 50 MB under `--max-old-space-size=64`.
 */
const MAX_RSS_GROWTH_MB = 350;

const peakRssMb = (): number => process.resourceUsage().maxRSS / 1024;

function deadLettersBy(run: RunningFlow, count: number, timeoutMs = 15_000): Promise<DeadLetterRow[]> {
  return waitFor(
    `${count} dead letters`,
    () => {
      const rows = run.deadLetters();
      if (rows.length > count)
        throw new Error(`more dead letters than expected: ${JSON.stringify(rows.map((r) => r.reason))}`);
      return rows.length === count ? rows : undefined;
    },
    timeoutMs,
  );
}

/** A deterministic stream of bytes, some of them never valid in UTF-8. */
function garbage(length: number): Buffer {
  const bytes = Buffer.alloc(length);
  let x = 2463534242;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes[i] = x & 0xff;
  }
  bytes[0] = 0xff;
  return bytes;
}

describe('hostile input', () => {
  it('dead-letters bad payloads, each with a clear reason, and still delivers a valid one', async (t) => {
    const run = await startFlow(
      fixture.broker.url,
      [
        { id: 'in', type: 'mqtt-in', config: { connection: 'broker', topic: 'bad/{case}', decoding: 'json' } },
        {
          id: 'sink',
          type: 'sqlite-sink',
          config: { table: 'good', columns: [{ name: 'case_name', path: 'params.case', type: 'text' }] },
        },
      ],
      [['in', 'out', 'sink']],
    );
    t.after(() => run.stop());

    const corpus: [string, string | Buffer, RegExp][] = [
      ['utf8', Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0xff, 0xfe, 0x7d]), /^payload is not valid UTF-8$/],
      ['truncated', '{"temperature": 21.5, "humid', /^malformed JSON: /],
      ['nul', '\u0000\u0000', /^malformed JSON: /],
      ['empty', '', /^empty payload$/],
      ['deep-array', '['.repeat(100_000) + ']'.repeat(100_000), /^JSON nested deeper than 64 levels$/],
      ['deep-object', '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000), /^JSON nested deeper than 64 levels$/],
      ['huge-exponent', '{"t": 1e400}', /^JSON holds a number too large to represent$/],
      ['huge-digits', `{"t": ${'9'.repeat(400)}}`, /^JSON holds a number too large to represent$/],
      ['proto', '{"__proto__": {"polluted": true}}', /^refused JSON: .*prototype/i],
      ['constructor', '{"constructor": {"prototype": {"polluted": true}}}', /^refused JSON: .*prototype/i],
      ['oversize', Buffer.alloc(1_048_577, 0x20), /^payload of 1048577 bytes is over maxPayloadBytes \(1048576\)$/],
      ['garbage', garbage(4096), /^payload is not valid UTF-8$/],
    ];
    for (const [name, payload] of corpus) await fixture.client.publishAsync(`bad/${name}`, payload, { qos: 1 });
    await fixture.client.publishAsync('bad/valid', '{"temperature": 20}', { qos: 1 });

    assert.deepEqual(await waitForRows(run, 'SELECT case_name, payload FROM good', 1), [
      { case_name: 'valid', payload: '{"temperature":20}' },
    ]);
    const dead = await deadLettersBy(run, corpus.length);
    for (const [name, payload, reason] of corpus) {
      const row = dead.find((d) => d.topic === `bad/${name}`);
      assert.ok(row, `no dead letter for ${name}`);
      assert.match(row.reason, reason, name);
      assert.equal(row.node, 'in');
      assert.equal(row.payload_size, payload.length, name);
    }
    // The original bytes are kept, so a dead letter can be inspected and replayed.
    assert.deepEqual(dead.find((d) => d.topic === 'bad/utf8')?.payload, corpus[0]?.[1]);
    assert.equal(run.node('in').state, 'running');
  });

  it('refuses hostile schemas before anything runs, naming the JSON pointer and the pattern', () => {
    let deep: unknown = { type: 'string' };
    for (let i = 0; i < 40; i++) deep = { items: deep };
    const many: Record<string, unknown> = {};
    for (let i = 0; i < 1200; i++) many[`p${i}`] = { type: 'number' };
    const doubling: Record<string, unknown> = { a0: { type: 'integer' } };
    for (let i = 1; i <= 30; i++) {
      doubling[`a${i}`] = { allOf: [{ $ref: `#/definitions/a${i - 1}` }, { $ref: `#/definitions/a${i - 1}` }] };
    }
    const cases: [string, unknown, [string, RegExp][]][] = [
      [
        'nested quantifier',
        { type: 'object', properties: { name: { type: 'string', pattern: '^(a+)+$' } } },
        [['/properties/name/pattern', /^pattern "\^\(a\+\)\+\$" may backtrack catastrophically/]],
      ],
      [
        'patterns in definitions, $defs, items and not',
        {
          definitions: { id: { items: [{ pattern: '(x+x+)+y' }] } },
          $defs: { code: { anyOf: [{ not: { pattern: '^([a-z]*)*$' } }] } },
        },
        [
          ['/definitions/id/items/0/pattern', /^pattern "\(x\+x\+\)\+y" may backtrack catastrophically/],
          ['/$defs/code/anyOf/0/not/pattern', /^pattern "\^\(\[a-z\]\*\)\*\$" may backtrack catastrophically/],
        ],
      ],
      [
        'patternProperties key',
        { patternProperties: { '^(a|b+)+$': { type: 'string' }, '^ok/[0-9]+$': { type: 'number' } } },
        [['/patternProperties/^(a|b+)+$', /^patternProperties key "\^\(a\|b\+\)\+\$" may backtrack catastrophically/]],
      ],
      ['invalid regex', { pattern: '[' }, [['/pattern', /^pattern "\[" is not a valid regular expression: /]]],
      ['too deep', deep, [[`${'/items'.repeat(33)}`, /^subschemas are nested deeper than 32 levels$/]]],
      [
        'too many subschemas',
        { type: 'object', properties: many },
        [['', /^the schema has 1201 subschemas; the limit is 1000$/]],
      ],
      [
        '$refs that multiply',
        { definitions: doubling, $ref: '#/definitions/a30' },
        [['', /^the schema expands to more than 10000 subschemas with its \$refs followed/]],
      ],
      [
        'remote $ref',
        { properties: { a: { $ref: 'https://example.com/schema.json#/x' } } },
        [
          [
            '/properties/a/$ref',
            /^\$ref "https:\/\/example\.com\/schema\.json#\/x" points outside the schema; remote references are never fetched$/,
          ],
        ],
      ],
      [
        '$data',
        { properties: { max: { type: 'number' }, v: { maximum: { $data: '1/max' } } } },
        [['/properties/v/maximum', /^\$data references are not supported$/]],
      ],
    ];
    for (const [name, schema, expected] of cases) {
      const result = checkFlow(
        flowOf('mqtt://127.0.0.1:1', [{ id: 'check', type: 'validate', config: { schema } }], []),
      );
      assert.equal(result.ok, false, name);
      assert.deepEqual(
        result.problems.map((p) => p.pointer),
        expected.map(([pointer]) => `/nodes/0/config/schema${pointer}`),
        name,
      );
      expected.forEach(([, message], i) => assert.match(result.problems[i]?.message ?? '', message, name));
      assert.throws(() => compileUserSchema(schema, false), Error, name);
    }
  });

  it('refuses catastrophic regex literals in expressions before anything runs', () => {
    for (const [type, field] of [
      ['transform', 'expression'],
      ['filter', 'predicate'],
    ] as const) {
      const result = checkFlow(
        flowOf(
          'mqtt://127.0.0.1:1',
          [{ id: 'n', type, config: { [field]: '$match(name, /^(\\w+\\s?)*$/) ? 1 : 0' } }],
          [],
        ),
      );
      assert.equal(result.ok, false);
      assert.equal(result.problems[0]?.pointer, `/nodes/0/config/${field}`);
      assert.match(
        result.problems[0]?.message ?? '',
        /^regular expression \/\^\(\\w\+\\s\?\)\*\$\/ may backtrack catastrophically .* \(at character \d+\)$/,
      );
    }
  });

  it('dead-letters runaway expressions with the limit they hit; the node keeps working and memory stays bounded', async (t) => {
    const corpus: [string, string, RegExp][] = [
      ['range', '[1..10000000].($string($))', /^D2015: The maximum sequence length of 1000000 was exceeded\./],
      [
        'pad',
        '$pad("", 100000000)',
        /^limit exceeded: \$pad would be 100000000 characters; strings are limited to 2097152/,
      ],
      ['pad-multi', '$pad("", -100000000, "ab")', /^limit exceeded: \$pad would be 200000000 characters/],
      ['join', '$join([1..1e7].("x"))', /^D2015: The maximum sequence length of 1000000 was exceeded\./],
      // These two build their 100,000 / 1,000,000 items first: on a loaded CI machine (the whole suite
      // runs two files at a time on two cores) the time limit can come before the size limit.
      [
        'join-long',
        '$join([1..100000].("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"))',
        /^(limit exceeded: \$join would be 3000000 characters|D1012: Evaluation timeout)/,
      ],
      [
        'string',
        '$string([1..1000000])',
        /^(limit exceeded: the result of \$string would be more than 2097152 bytes as JSON|D1012: Evaluation timeout)/,
      ],
      // Holds about 100 MB more every second: the heap budget (64 MiB) stops it, or on a busy
      // machine the time limit comes first.
      [
        'self-application',
        '(function($f){ $f($f) })(function($g){ $g($g) })',
        /^(limit exceeded: the (evaluation holds \d+ MiB more heap|heap holds \d+ MiB) after \d+ steps|D1012: Evaluation timeout)/,
      ],
      ['recursion', '($g := function($x){ 1 + $g($x) }; $g(1))', /^D1011: Stack overflow/],
      ['tail-loop', '($f := function($x){ $f($x) }; $f(1))', /^D1012: Evaluation timeout after 1000 milliseconds/],
      ['doubling', '($f := function($s){ $f($s & $s) }; $f("x"))', /^limit exceeded: `&` would be 4194304 characters/],
      [
        'shared-parts',
        '$reduce([1..30], function($a, $b){ {"l": $a, "r": $a} }, {"x": 1})',
        /^limit exceeded: the result would be more than 16777216 bytes as JSON$/,
      ],
      [
        'eval-regex',
        '$eval("$match(\\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaa!\\", /(a+)+$/)")',
        /regular expression \/\(a\+\)\+\$\/ may backtrack catastrophically/,
      ],
    ];
    // One transform node runs every case, so "the node keeps working" is about the same node.
    const expression = `${corpus.map(([name, source]) => `kind = "${name}" ? (${source}) : `).join('\n')} { "ok": n }`;
    const run = await startFlow(
      fixture.broker.url,
      [
        { id: 'in', type: 'mqtt-in', config: { connection: 'broker', topic: 'expr/+', decoding: 'json' } },
        { id: 'shape', type: 'transform', config: { expression } },
        { id: 'sink', type: 'sqlite-sink', config: { table: 'out', columns: [] } },
      ],
      [
        ['in', 'out', 'shape'],
        ['shape', 'out', 'sink'],
      ],
    );
    t.after(() => run.stop());

    const peakBefore = peakRssMb();
    const started = Date.now();
    await fixture.client.publishAsync('expr/x', '{"kind":"fine","n":0}', { qos: 1 });
    for (const [name] of corpus)
      await fixture.client.publishAsync('expr/x', JSON.stringify({ kind: name }), { qos: 1 });
    await fixture.client.publishAsync('expr/x', '{"kind":"fine","n":1}', { qos: 1 });

    assert.deepEqual(await waitForRows(run, 'SELECT payload FROM out ORDER BY id', 2, 30_000), [
      { payload: '{"ok":0}' },
      { payload: '{"ok":1}' },
    ]);
    const dead = await deadLettersBy(run, corpus.length);
    assert.deepEqual(
      dead.map((d) => JSON.parse(d.payload?.toString() ?? '{}').kind),
      corpus.map(([name]) => name),
    );
    corpus.forEach(([name, , reason], i) => {
      const row = dead[i] as DeadLetterRow;
      assert.equal(row.node, 'shape', name);
      assert.match(row.reason.replace(/^transform failed: /, ''), reason, `${name}: ${row.reason}`);
    });
    const elapsed = Date.now() - started;
    const growth = peakRssMb() - peakBefore;
    t.diagnostic(`expression corpus: ${elapsed} ms, peak RSS +${growth.toFixed(0)} MB`);
    assert.ok(growth < MAX_RSS_GROWTH_MB, `peak RSS grew by ${growth.toFixed(0)} MB`);
    assert.equal(run.node('shape').state, 'running');
    assert.deepEqual(run.node('shape').counters, { in: corpus.length + 2, out: 2, errors: corpus.length, dropped: 0 });
  });
});

describe('documented limits', () => {
  it('are the limits the engine enforces (node docs are generated from these descriptions)', () => {
    const description = (spec: { config: { properties: Record<string, unknown> } }, field: string): string =>
      (spec.config.properties[field] as { description: string }).description;
    const expression = description(transformSpec, 'expression');
    for (const figure of [
      `${EXPRESSION_TIMEOUT_MS / 1000} s`,
      `recursion depth ${EXPRESSION_MAX_STACK}`,
      `sequences of ${MAX_SEQUENCE_LENGTH.toLocaleString('en-US')} items`,
      `strings of ${MAX_STRING_LENGTH / 1048576} Mi characters`,
      `${MAX_EVALUATION_HEAP_GROWTH / 1048576} MiB of added heap`,
      `a result of ${MAX_RESULT_BYTES / 1048576} MiB`,
    ]) {
      assert.ok(expression.includes(figure), `transform's expression description lacks "${figure}"`);
    }
    const schema = description(validateSpec, 'schema');
    for (const figure of [
      `deeper than ${MAX_SCHEMA_DEPTH} levels`,
      `more than ${MAX_SUBSCHEMAS.toLocaleString('en-US')} subschemas`,
      `${MAX_EXPANDED_SUBSCHEMAS.toLocaleString('en-US')} with local`,
      `more than ${MAX_SCHEMA_BYTES / 1024} KiB`,
      `more than ${MAX_REGEX_QUANTIFIERS} quantifiers`,
    ]) {
      assert.ok(schema.includes(figure), `validate's schema description lacks "${figure}"`);
    }
  });
});

describe('bounded JSONata built-ins', () => {
  const message = (payload: unknown): FlowMessage =>
    ({
      topic: 't',
      payload,
      raw: undefined,
      qos: 0,
      retain: false,
      params: {},
      receivedAt: 0,
      id: 'x',
    }) as unknown as FlowMessage;
  const outcome = (promise: Promise<unknown>): Promise<string> =>
    promise.then(
      (value) => JSON.stringify(value) ?? 'undefined',
      (error: { code?: string }) => `error ${error.code}`,
    );

  it('give the same results as JSONata on ordinary input (random corpus, surrogates included)', async () => {
    const chars = ['a', 'b', 'é', '😀', '\uD800', '\uDC00', 'ß', ' '];
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const text = (): string => Array.from({ length: random(8) }, () => chars[random(chars.length)]).join('');
    const number = (): number => [-10, -3, -1, -0.5, 0, 0.7, 1, 2, 3, 5, 100][random(11)] as number;
    const expressions = [
      () => `$substring(s, ${number()})`,
      () => `$substring(s, ${number()}, ${number()})`,
      () => '$length(s)',
      () => `$pad(s, ${number()})`,
      () => `$pad(s, ${number()}, c)`,
      () => '$distinct(values)',
      () => '$distinct(values.x)',
      () => '$distinct(strings)',
      () => '$sort(numbers)',
      () => '$sort(strings)',
      () => '$sort(strings, function($a, $b){ $a < $b })',
      () => 'numbers^($)',
      () => 's & c',
      () => 'values & s',
      () => '$map(strings, $substring(?, 1, 2))',
      () => '$map(strings, $length)',
      () => '$string(values)',
      () => '$replace(s, "a", c)',
      () => '$join(strings, c)',
      () => '$sort([1, "a"])',
    ];
    for (let i = 0; i < 600; i++) {
      const source = (expressions[random(expressions.length)] as () => string)();
      const input = {
        s: text(),
        c: text(),
        values: [1, 'a', { x: 1, y: [1, 2] }, { y: [1, 2], x: 1 }, 1, 'a', null, [1], [1], { x: 2 }].filter(() =>
          random(2),
        ),
        numbers: Array.from({ length: random(10) }, () => random(5) - 2),
        strings: Array.from({ length: random(6) }, text),
      };
      const expected = await outcome(jsonata(source).evaluate(input));
      const actual = await outcome(evaluateExpression(compileExpression(source), message(input)));
      assert.equal(actual, expected, `${source} on ${JSON.stringify(input)}`);
    }
  });

  it('handle large ordinary input in linear time', async () => {
    const values = Array.from({ length: 200_000 }, (_, i) => (i * 7919) % 100_000);
    const started = Date.now();
    const sorted = (await evaluateExpression(compileExpression('$sort(values)'), message({ values }))) as number[];
    assert.equal(sorted.length, values.length);
    assert.deepEqual(sorted.slice(0, 3), [0, 0, 1]);
    const distinct = (await evaluateExpression(
      compileExpression('$distinct(values)'),
      message({ values }),
    )) as number[];
    assert.equal(distinct.length, 100_000);
    const text = 'é'.repeat(MAX_STRING_LENGTH);
    assert.equal(await evaluateExpression(compileExpression('$length(s)'), message({ s: text })), MAX_STRING_LENGTH);
    assert.equal(await evaluateExpression(compileExpression('$substring(s, -3, 2)'), message({ s: text })), 'éé');
    assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
    assert.equal(
      await outcome(evaluateExpression(compileExpression(`[1..${MAX_SEQUENCE_LENGTH + 1}]`), message({}))),
      'error D2015',
    );
  });
});
