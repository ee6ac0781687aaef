import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  buildFields,
  configPointer,
  connectionPointer,
  isExpressionField,
  isOnlyReferences,
  literalSecretProblems,
  mergeProblems,
  withConnectionChoices,
  enumOptions,
  isReference,
  labelFor,
  newRow,
  parseNumber,
  problemsByField,
  setField,
  type FormField,
} from '../../renderer/graph/schemaForm.js';

const sqliteSink = {
  type: 'object',
  additionalProperties: false,
  required: ['table', 'mode', 'columns'],
  properties: {
    table: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$', description: 'Table name.', examples: ['readings'] },
    mode: { type: 'string', enum: ['row', 'attributes', 'upsert'], default: 'row' },
    columns: {
      type: 'array',
      default: [],
      items: {
        type: 'object',
        required: ['name', 'path', 'type', 'merge'],
        properties: {
          name: { type: 'string' },
          path: { type: 'string' },
          type: { type: 'string', enum: ['any', 'real'], default: 'any' },
          merge: { type: 'boolean', default: false },
        },
      },
    },
    keys: { type: 'array', items: { type: 'string' } },
    includePayload: { type: 'boolean', default: true },
    batchSize: { type: 'integer', minimum: 1, maximum: 100000, default: 1000 },
  },
};

function byKey(fields: readonly FormField[], key: string): FormField {
  const field = fields.find((f) => f.key === key);
  assert.ok(field, `no field ${key}`);
  return field;
}

describe('renderer schemaForm: fields from a JSON Schema', () => {
  it('maps each property to a field kind, in order, with labels, defaults, limits and values', () => {
    const fields = buildFields(sqliteSink, { table: 'temps', batchSize: 50 }, []);
    assert.deepEqual(
      fields.map((f) => [f.key, f.kind]),
      [
        ['table', 'text'],
        ['mode', 'enum'],
        ['columns', 'object-list'],
        ['keys', 'string-list'],
        ['includePayload', 'boolean'],
        ['batchSize', 'integer'],
      ],
    );
    const table = byKey(fields, 'table');
    assert.equal(table.value, 'temps');
    assert.equal(table.required, true);
    assert.equal(table.pointer, '/table');
    assert.equal(table.description, 'Table name.');
    assert.deepEqual(table.examples, ['readings']);
    const batch = byKey(fields, 'batchSize');
    assert.deepEqual([batch.min, batch.max, batch.default, batch.value, batch.required], [1, 100000, 1000, 50, false]);
    assert.equal(byKey(fields, 'includePayload').label, 'Include payload');
    assert.deepEqual(byKey(fields, 'mode').options, ['row', 'attributes', 'upsert']);
    const columns = byKey(fields, 'columns');
    assert.deepEqual(
      columns.columns?.map((c) => [c.key, c.kind]),
      [
        ['name', 'text'],
        ['path', 'text'],
        ['type', 'enum'],
        ['merge', 'boolean'],
      ],
    );
  });

  it('reads enums written as anyOf/oneOf of consts, and enum items of a list', () => {
    assert.deepEqual(enumOptions({ anyOf: [{ const: 0 }, { const: 1 }, { const: 2 }] }), [0, 1, 2]);
    assert.deepEqual(enumOptions({ oneOf: [{ const: 'a' }, { const: 'b' }] }), ['a', 'b']);
    assert.equal(enumOptions({ anyOf: [{ const: 'a' }, { type: 'string' }] }), undefined);
    const [qos, profiles] = buildFields(
      {
        type: 'object',
        properties: {
          qos: { type: 'integer', anyOf: [{ const: 0 }, { const: 1 }] },
          profiles: { type: 'array', items: { type: 'string', enum: ['sensor', 'camera'] } },
        },
      },
      {},
      [],
    );
    assert.equal(qos?.kind, 'enum');
    assert.equal(profiles?.kind, 'string-list');
    assert.deepEqual(profiles?.options, ['sensor', 'camera']);
  });

  it('makes records of string values key/value fields and everything else raw JSON', () => {
    const fields = buildFields(
      {
        type: 'object',
        properties: {
          headers: { type: 'object', patternProperties: { '^(.*)$': { type: 'string' } } },
          secretHeaders: { type: 'object', patternProperties: { '^(.*)$': { type: 'string', secret: true } } },
          schema: { type: ['object', 'boolean'] },
          nested: { type: 'object', properties: { a: { type: 'string' } } },
          token: { type: 'string' },
          url: { type: 'string' },
        },
      },
      { headers: { 'X-A': '1' } },
      ['/secretHeaders/*', '/token'],
    );
    assert.deepEqual(
      fields.map((f) => [f.key, f.kind, f.secret]),
      [
        ['headers', 'record', false],
        ['secretHeaders', 'record', true],
        ['schema', 'json', false],
        ['nested', 'json', false],
        ['token', 'text', true],
        ['url', 'text', false],
      ],
    );
    assert.deepEqual(byKey(fields, 'headers').value, { 'X-A': '1' });
  });

  it('returns no fields for a schema that is not an object with properties', () => {
    assert.deepEqual(buildFields(true, {}, []), []);
    assert.deepEqual(buildFields({ type: 'object' }, {}, []), []);
  });
});

describe('renderer schemaForm: helpers', () => {
  it('labels camelCase and snake_case keys', () => {
    assert.equal(labelFor('maxPayloadBytes'), 'Max payload bytes');
    assert.equal(labelFor('retry_base_ms'), 'Retry base ms');
    assert.equal(labelFor('url'), 'URL');
    assert.equal(labelFor('qos'), 'QoS');
  });

  it('recognises secret references', () => {
    assert.equal(isReference('${env:TOKEN}'), true);
    assert.equal(isReference('Bearer ${secret:API_TOKEN}'), true);
    assert.equal(isReference('hunter2'), false);
    assert.equal(isReference('${other:X}'), false);
    assert.equal(isReference(undefined), false);
  });

  it('places problems under the config field they point into', () => {
    assert.equal(configPointer('/nodes/1/config/table'), '/table');
    assert.equal(configPointer('/nodes/1/config'), '');
    assert.equal(configPointer('/nodes/1/type'), undefined);
    assert.equal(configPointer('/edges/0'), undefined);
    const grouped = problemsByField([
      { pointer: '/nodes/1/config/table', message: 'must match pattern', severity: 'error' },
      { pointer: '/nodes/1/config/columns/0/name', message: 'bad name', severity: 'error' },
      { pointer: '/nodes/1/config/a~1b', message: 'escaped', severity: 'warning' },
      { pointer: '/nodes/1/config', message: 'whole config', severity: 'error' },
      { pointer: '/nodes/1', message: 'outside', severity: 'error' },
    ]);
    assert.deepEqual([...grouped.keys()], ['table', 'columns', 'a/b', '']);
    assert.deepEqual(grouped.get('table'), [{ at: '', message: 'must match pattern', severity: 'error' }]);
    assert.deepEqual(grouped.get('columns'), [{ at: '/0/name', message: 'bad name', severity: 'error' }]);
    assert.equal(grouped.get('')?.[0]?.message, 'whole config');
  });

  it('sets and unsets fields without touching the original', () => {
    const config = { a: 1, b: 2 };
    assert.deepEqual(setField(config, 'a', 3), { a: 3, b: 2 });
    assert.deepEqual(setField(config, 'b', undefined), { a: 1 });
    assert.deepEqual(config, { a: 1, b: 2 });
  });

  it('parses number input text', () => {
    assert.equal(parseNumber(''), undefined);
    assert.equal(parseNumber(' 42 '), 42);
    assert.equal(parseNumber('-1.5'), -1.5);
    assert.ok(Number.isNaN(parseNumber('1e')));
    assert.ok(Number.isNaN(parseNumber('abc')));
  });

  it('builds a new list row from the column defaults', () => {
    const columns = byKey(buildFields(sqliteSink, {}, []), 'columns').columns ?? [];
    assert.deepEqual(newRow(columns), { name: '', path: '', type: 'any', merge: false });
  });
});

describe('schemaForm: expressions, connections and secrets', () => {
  const fields = buildFields(
    {
      type: 'object',
      properties: {
        connection: { type: 'string' },
        expression: { type: 'string', description: 'JSONata expression evaluated against the payload.' },
        priorityFrom: { type: 'string', description: 'JSONata expression giving each message its own priority' },
        topic: { type: 'string', description: 'Topic; not a JSONata expression.' },
        password: { type: 'string', secret: true },
        secretHeaders: { type: 'object', additionalProperties: { type: 'string' } },
      },
    },
    {
      connection: 'gone',
      password: 'hunter2',
      secretHeaders: { Authorization: '${env:TOKEN}', 'X-Key': 'literal', Empty: '' },
    },
    ['/secretHeaders/*'],
  );
  const byKey = (list: readonly FormField[], key: string) => list.find((f) => f.key === key) as FormField;

  it('tells JSONata fields from other text fields by their catalog description', () => {
    assert.deepEqual(
      fields.filter(isExpressionField).map((f) => f.key),
      ['expression', 'priorityFrom'],
    );
  });

  it('offers the flow connection ids for a connection field, keeping an unknown current value', () => {
    const chosen = withConnectionChoices(fields, ['local', 'cloud']);
    assert.equal(byKey(chosen, 'connection').kind, 'enum');
    assert.deepEqual(byKey(chosen, 'connection').options, ['local', 'cloud', 'gone']);
    assert.equal(byKey(chosen, 'topic').kind, 'text');
    assert.equal(withConnectionChoices([byKey(fields, 'topic')], ['x'])[0]?.kind, 'text');
  });

  it('puts an inline error on a secret field holding a literal, at the value that holds it', () => {
    const problems = literalSecretProblems(fields);
    assert.deepEqual([...problems.keys()], ['password', 'secretHeaders']);
    assert.deepEqual(
      problems.get('secretHeaders')?.map((p) => p.at),
      ['/X-Key'],
    );
    assert.match(problems.get('password')?.[0]?.message ?? '', /\$\{env:/);
    assert.equal(isOnlyReferences('${env:A}${secret:B}'), true);
    assert.equal(isOnlyReferences('${env:A:-fallback}'), false);
    assert.equal(isOnlyReferences('x'), false);
  });

  it('reads connection problems by field, and merges problem maps', () => {
    const problems = [
      { pointer: '/connections/1/url', message: 'bad url', severity: 'error' as const },
      { pointer: '/connections/10/url', message: 'other', severity: 'error' as const },
      { pointer: '/connections/1', message: 'whole', severity: 'error' as const },
    ];
    const byField = problemsByField(problems, connectionPointer(1));
    assert.deepEqual([...byField.keys()].sort(), ['', 'url']);
    const merged = mergeProblems(
      byField,
      new Map([['url', [{ at: '', message: 'more', severity: 'warning' as const }]]]),
    );
    assert.equal(merged.get('url')?.length, 2);
  });
});
