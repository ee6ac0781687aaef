import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkFlow } from '../../../../main/engine/flowLoader.js';
import { safeAjvRegExp } from '../../../../main/engine/nodes/safeRegex.js';
import { compileUserSchema, describeSchemaErrors } from '../../../../main/engine/nodes/validateNode.js';
import { flowOf } from '../../../helpers/engineHarness.js';
import { brokerFixture } from '../../../helpers/brokerFixture.js';
import { waitFor } from '../../../helpers/waitFor.js';
import { settle, startFlow, waitForRows } from '../engineTestKit.js';

const fixture = brokerFixture();

const schema = {
  type: 'object',
  required: ['temperature'],
  properties: { temperature: { type: 'number' }, humidity: { type: 'number', minimum: 0, maximum: 100 } },
};

const source = (topic: string) => ({
  id: 'in',
  type: 'mqtt-in',
  config: { connection: 'broker', topic, decoding: 'json' },
});
const sink = (id: string, table: string) => ({
  id,
  type: 'sqlite-sink',
  config: { table, columns: [{ name: 'device', path: 'params.device', type: 'text' }] },
});

describe('validate', () => {
  it('sends valid payloads to `valid` and dead-letters invalid ones, naming the failing path', async (t) => {
    const run = await startFlow(
      fixture.broker.url,
      [source('v1/{device}'), { id: 'check', type: 'validate', config: { schema } }, sink('good', 'good')],
      [
        ['in', 'out', 'check'],
        ['check', 'valid', 'good'],
      ],
    );
    t.after(() => run.stop());

    const sent = [
      '{"temperature":21.5}',
      '{"temperature":"hot"}',
      '{"humidity":40}',
      '{"temperature":20,"humidity":140}',
      '{"temperature":-3,"humidity":0}',
    ];
    for (const p of sent) await fixture.client.publishAsync('v1/d1', p, { qos: 1 });

    const rows = await waitForRows(run, 'SELECT device, payload FROM good ORDER BY id', 2);
    assert.deepEqual(rows, [
      { device: 'd1', payload: '{"temperature":21.5}' },
      { device: 'd1', payload: '{"temperature":-3,"humidity":0}' },
    ]);
    const dead = await waitFor('3 dead letters', () =>
      run.deadLetters().length === 3 ? run.deadLetters() : undefined,
    );
    assert.deepEqual(
      dead.map((d) => [d.node, d.reason, d.payload?.toString(), d.topic, d.qos]),
      [
        ['check', 'invalid: /temperature must be number', sent[1], 'v1/d1', 1],
        ['check', 'invalid: /temperature is required', sent[2], 'v1/d1', 1],
        ['check', 'invalid: /humidity must be <= 100', sent[3], 'v1/d1', 1],
      ],
    );
    // These messages were decoded, so they carry the engine's sequence numbers, in order.
    const seqs = dead.map((d) => d.seq as number);
    assert.ok(seqs.every((s) => Number.isInteger(s) && s > 0));
    assert.deepEqual(
      [...seqs].sort((a, b) => a - b),
      seqs,
    );
    assert.deepEqual(run.node('check').counters, { in: 5, out: 5, errors: 3, dropped: 0 });
  });

  it('sends invalid payloads to a wired `invalid` port instead of dead-lettering them', async (t) => {
    const run = await startFlow(
      fixture.broker.url,
      [
        source('v2/{device}'),
        { id: 'check', type: 'validate', config: { schema } },
        sink('good', 'good'),
        sink('bad', 'bad'),
      ],
      [
        ['in', 'out', 'check'],
        ['check', 'valid', 'good'],
        ['check', 'invalid', 'bad'],
      ],
    );
    t.after(() => run.stop());

    await fixture.client.publishAsync('v2/a', '{"temperature":1}', { qos: 1 });
    await fixture.client.publishAsync('v2/b', '{"temperature":null}', { qos: 1 });
    await fixture.client.publishAsync('v2/c', '[1,2]', { qos: 1 });
    await fixture.client.publishAsync('v2/d', '{"temperature":2}', { qos: 1 });

    assert.deepEqual(await waitForRows(run, 'SELECT device, payload FROM good ORDER BY id', 2), [
      { device: 'a', payload: '{"temperature":1}' },
      { device: 'd', payload: '{"temperature":2}' },
    ]);
    assert.deepEqual(await waitForRows(run, 'SELECT device, payload FROM bad ORDER BY id', 2), [
      { device: 'b', payload: '{"temperature":null}' },
      { device: 'c', payload: '[1,2]' },
    ]);
    await settle(50);
    assert.deepEqual(run.deadLetters(), []);
  });

  it('names every failing path when allErrors is on', async (t) => {
    const run = await startFlow(
      fixture.broker.url,
      [
        source('v3/{device}'),
        { id: 'check', type: 'validate', config: { schema, allErrors: true } },
        sink('good', 'good'),
      ],
      [
        ['in', 'out', 'check'],
        ['check', 'valid', 'good'],
      ],
    );
    t.after(() => run.stop());
    await fixture.client.publishAsync('v3/a', '{"temperature":"x","humidity":-1}', { qos: 1 });
    const [dead] = await waitFor('a dead letter', () => (run.deadLetters().length > 0 ? run.deadLetters() : undefined));
    assert.equal(dead?.reason, 'invalid: /temperature must be number; /humidity must be >= 0');
  });

  it('checks formats', async (t) => {
    const run = await startFlow(
      fixture.broker.url,
      [
        source('v4/{device}'),
        {
          id: 'check',
          type: 'validate',
          config: { schema: { type: 'object', properties: { at: { type: 'string', format: 'date-time' } } } },
        },
        sink('good', 'good'),
      ],
      [
        ['in', 'out', 'check'],
        ['check', 'valid', 'good'],
      ],
    );
    t.after(() => run.stop());
    await fixture.client.publishAsync('v4/a', '{"at":"yesterday"}', { qos: 1 });
    await fixture.client.publishAsync('v4/b', '{"at":"2024-05-01T12:00:00Z"}', { qos: 1 });
    assert.deepEqual(await waitForRows(run, 'SELECT device FROM good', 1), [{ device: 'b' }]);
    const [dead] = await waitFor('a dead letter', () => (run.deadLetters().length > 0 ? run.deadLetters() : undefined));
    assert.equal(dead?.reason, 'invalid: /at must match format "date-time"');
  });

  it('refuses, before anything runs, a schema that does not compile or uses a remote $ref', () => {
    for (const bad of [{ type: 'nonsense' }, { $ref: 'other.json' }]) {
      const result = checkFlow(
        flowOf('mqtt://127.0.0.1:1', [{ id: 'check', type: 'validate', config: { schema: bad } }], []),
      );
      assert.equal(result.ok, false, JSON.stringify(bad));
      assert.match(result.problems[0]?.message ?? '', /^not a usable JSON Schema: /);
      assert.equal(result.problems[0]?.pointer, '/nodes/0/config/schema');
    }
    // An absolute $ref is named where it is, before Ajv would fail to resolve it.
    const remote = checkFlow(
      flowOf(
        'mqtt://127.0.0.1:1',
        [{ id: 'check', type: 'validate', config: { schema: { $ref: 'https://example.com/schema.json' } } }],
        [],
      ),
    );
    assert.deepEqual(remote.problems, [
      {
        pointer: '/nodes/0/config/schema/$ref',
        message:
          '$ref "https://example.com/schema.json" points outside the schema; remote references are never fetched',
        severity: 'error',
      },
    ]);
    assert.throws(
      () => compileUserSchema({ $ref: 'https://example.com/schema.json' }, false),
      /remote references are never fetched/,
    );
  });

  it('refuses patterns that may backtrack catastrophically, wherever they sit, and only those', () => {
    const schema = {
      type: 'object',
      properties: {
        id: { type: 'string', pattern: '^[a-z0-9-]{1,32}$' },
        tags: { type: 'array', items: { type: 'string', pattern: '^(\\w+\\s?)*$' } },
      },
      patternProperties: { '^x-(a+)+$': true, '^y-[0-9]+$': { type: 'number' } },
      dependencies: { id: ['tags'], tags: { properties: { note: { pattern: '(.*a){12}' } } } },
      if: { properties: { kind: { const: 'a' } } },
      then: { properties: { code: { pattern: '^[A-Z]{2}$' } } },
      else: { properties: { code: { pattern: '([A-Z]+)*' } } },
    };
    const result = checkFlow(flowOf('mqtt://127.0.0.1:1', [{ id: 'check', type: 'validate', config: { schema } }], []));
    assert.deepEqual(
      result.problems.map((p) => p.pointer),
      [
        '/nodes/0/config/schema/patternProperties/^x-(a+)+$',
        '/nodes/0/config/schema/properties/tags/items/pattern',
        '/nodes/0/config/schema/dependencies/tags/properties/note/pattern',
        '/nodes/0/config/schema/else/properties/code/pattern',
      ],
    );
    for (const p of result.problems) assert.match(p.message, / may backtrack catastrophically \(safe-regex2 refuses/);
    // Ajv's own regExp hook refuses them too, should a pattern ever escape the walk.
    assert.throws(() => safeAjvRegExp('(a+)+$', 'u'), /may backtrack catastrophically/);
    assert.equal(safeAjvRegExp('^[a-z]+$', 'u').test('abc'), true);
  });

  it('checks safe patterns against long hostile strings in linear time', async (t) => {
    const run = await startFlow(
      fixture.broker.url,
      [
        source('v5/{device}'),
        {
          id: 'check',
          type: 'validate',
          config: { schema: { type: 'object', properties: { name: { type: 'string', pattern: '^[a-z]+[0-9]*$' } } } },
        },
        sink('good', 'good'),
      ],
      [
        ['in', 'out', 'check'],
        ['check', 'valid', 'good'],
      ],
    );
    t.after(() => run.stop());
    const started = Date.now();
    await fixture.client.publishAsync('v5/a', JSON.stringify({ name: `${'a'.repeat(300_000)}!` }), { qos: 1 });
    await fixture.client.publishAsync('v5/b', '{"name":"fine42"}', { qos: 1 });
    assert.deepEqual(await waitForRows(run, 'SELECT device FROM good', 1), [{ device: 'b' }]);
    const [dead] = await waitFor('a dead letter', () => (run.deadLetters().length > 0 ? run.deadLetters() : undefined));
    assert.equal(dead?.reason, 'invalid: /name must match pattern "^[a-z]+[0-9]*$"');
    assert.ok(Date.now() - started < 5000);
  });

  it('describes errors as path + message', () => {
    const validate = compileUserSchema(
      { type: 'object', required: ['a'], additionalProperties: false, properties: { a: { type: 'integer' } } },
      true,
    );
    assert.equal(validate({ a: 1.5, b: 2 }), false);
    assert.deepEqual(describeSchemaErrors(validate.errors), [
      { path: '/b', message: 'is not allowed' },
      { path: '/a', message: 'must be integer' },
    ]);
    assert.equal(validate({}), false);
    assert.deepEqual(describeSchemaErrors(validate.errors), [{ path: '/a', message: 'is required' }]);
    assert.equal(compileUserSchema({ type: 'string' }, false)(5), false);
    const root = compileUserSchema({ type: 'string' }, false);
    root(5);
    assert.deepEqual(describeSchemaErrors(root.errors), [{ path: '/', message: 'must be string' }]);
  });

  it('compiles each distinct schema once, whatever object carries it, and keeps allErrors apart', () => {
    const schema = { type: 'object', properties: { n: { type: 'number', minimum: 0 } } };
    const first = compileUserSchema(schema, false);
    assert.equal(compileUserSchema(structuredClone(schema), false), first);
    assert.notEqual(compileUserSchema(schema, true), first);
    // A schema whose `$id` was compiled before compiles again (Ajv would refuse a duplicate id).
    const withId = { $id: 'urn:topicflow:test', type: 'integer' };
    assert.equal(compileUserSchema(withId, false)(1), true);
    assert.equal(compileUserSchema({ ...withId, minimum: 5 }, false)(1), false);
  });
});
