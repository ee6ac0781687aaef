import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import jsonata from 'jsonata';
import { checkFlow } from '../../../../main/engine/flowLoader.js';
import { isTruthy } from '../../../../main/engine/nodes/jsonataExpression.js';
import { flowOf } from '../../../helpers/engineHarness.js';
import { brokerFixture } from '../../../helpers/brokerFixture.js';
import { waitFor } from '../../../helpers/waitFor.js';
import { publishAll, settle, startFlow, waitForRows } from '../engineTestKit.js';

const fixture = brokerFixture();

const input = (topic: string) => ({
  id: 'in',
  type: 'mqtt-in',
  config: { connection: 'broker', topic, decoding: 'json' },
});
const sink = (id: string) => ({ id, type: 'sqlite-sink', config: { table: id, includePayload: true } });

describe('filter', () => {
  it('routes truthy results to `match` and the rest to `else`, in order', async (t) => {
    const run = await startFlow(
      fixture.broker.url,
      [
        input('f1/+'),
        { id: 'hot', type: 'filter', config: { predicate: 'temperature > 30' } },
        sink('high'),
        sink('low'),
      ],
      [
        ['in', 'out', 'hot'],
        ['hot', 'match', 'high'],
        ['hot', 'else', 'low'],
      ],
    );
    t.after(() => run.stop());
    const temperatures = [10, 31, 30, 45.5, -2, 99];
    await publishAll(
      fixture.client,
      'f1/x',
      temperatures.map((temperature) => JSON.stringify({ temperature })),
    );
    // A payload without `temperature` makes the predicate empty, which is falsy.
    await fixture.client.publishAsync('f1/x', '{"other":1}', { qos: 1 });

    assert.deepEqual(await waitForRows(run, 'SELECT payload FROM high ORDER BY id', 3), [
      { payload: '{"temperature":31}' },
      { payload: '{"temperature":45.5}' },
      { payload: '{"temperature":99}' },
    ]);
    assert.deepEqual(await waitForRows(run, 'SELECT payload FROM low ORDER BY id', 4), [
      { payload: '{"temperature":10}' },
      { payload: '{"temperature":30}' },
      { payload: '{"temperature":-2}' },
      { payload: '{"other":1}' },
    ]);
    assert.deepEqual(run.deadLetters(), []);
  });

  it('discards `else` quietly when it is not wired, and can route on $params and $topic', async (t) => {
    const run = await startFlow(
      fixture.broker.url,
      [
        input('f2/{area}/{device}'),
        {
          id: 'plant1',
          type: 'filter',
          config: { predicate: '$params.area = "plant1" and $contains($topic, "pump")' },
        },
        sink('kept'),
      ],
      [
        ['in', 'out', 'plant1'],
        ['plant1', 'match', 'kept'],
      ],
    );
    t.after(() => run.stop());
    await fixture.client.publishAsync('f2/plant2/pump-1', '1', { qos: 1 });
    await fixture.client.publishAsync('f2/plant1/fan-1', '2', { qos: 1 });
    await fixture.client.publishAsync('f2/plant1/pump-2', '3', { qos: 1 });
    await fixture.client.publishAsync('f2/plant1/pump-3', '4', { qos: 1 });

    assert.deepEqual(await waitForRows(run, 'SELECT topic, payload FROM kept ORDER BY id', 2), [
      { topic: 'f2/plant1/pump-2', payload: '3' },
      { topic: 'f2/plant1/pump-3', payload: '4' },
    ]);
    await settle(50);
    assert.deepEqual(run.deadLetters(), [], 'an unwired else is not a dead letter');
    const counters = run.node('plant1').counters;
    assert.equal(counters.in, 4);
    assert.equal(counters.errors, 0);
  });

  it('dead-letters a message whose predicate fails to evaluate', async (t) => {
    const run = await startFlow(
      fixture.broker.url,
      [input('f3/+'), { id: 'cmp', type: 'filter', config: { predicate: 'value > 10' } }, sink('big')],
      [
        ['in', 'out', 'cmp'],
        ['cmp', 'match', 'big'],
      ],
    );
    t.after(() => run.stop());
    await fixture.client.publishAsync('f3/x', '{"value":"eleven"}', { qos: 1 });
    await fixture.client.publishAsync('f3/x', '{"value":11}', { qos: 1 });
    assert.deepEqual(await waitForRows(run, 'SELECT payload FROM big', 1), [{ payload: '{"value":11}' }]);
    const [dead] = await waitFor('a dead letter', () => (run.deadLetters().length > 0 ? run.deadLetters() : undefined));
    assert.match(
      dead?.reason ?? '',
      /^filter failed: T2009: The values "eleven" and 10 either side of operator ">" must be of the same data type/,
    );
    assert.equal(dead?.node, 'cmp');
    assert.equal(dead?.payload?.toString(), '{"value":"eleven"}');
  });

  it('gives each predicate of a burst its own time limit', async (t) => {
    // Tens of milliseconds each; evaluated all at once, twenty would each pass the 1 s limit.
    const run = await startFlow(
      fixture.broker.url,
      [
        input('f4/+'),
        { id: 'slow', type: 'filter', config: { predicate: '$sum($map([1..6000], function($v) { $v * 2 })) > n' } },
        sink('passed'),
      ],
      [
        ['in', 'out', 'slow'],
        ['slow', 'match', 'passed'],
      ],
    );
    t.after(() => run.stop());
    await publishAll(
      fixture.client,
      'f4/x',
      Array.from({ length: 20 }, (_, n) => JSON.stringify({ n })),
    );
    await waitFor(
      '20 results',
      () => run.rows('SELECT id FROM passed').length + run.deadLetters().length >= 20,
      15_000,
    );
    assert.deepEqual(
      run.deadLetters().map((d) => d.reason),
      [],
    );
    assert.equal(run.rows('SELECT id FROM passed').length, 20);
  });

  it('refuses a predicate that does not compile before anything runs', () => {
    const result = checkFlow(
      flowOf('mqtt://127.0.0.1:1', [{ id: 'f', type: 'filter', config: { predicate: 'a >' } }], []),
    );
    assert.equal(result.ok, false);
    assert.equal(result.problems[0]?.pointer, '/nodes/0/config/predicate');
  });

  it('judges truthiness exactly as JSONata $boolean() does', async () => {
    const values: unknown[] = [
      0,
      1,
      -1,
      '',
      'a',
      'false',
      [],
      [0],
      [0, 1],
      [[0]],
      [''],
      {},
      { a: 0 },
      null,
      true,
      false,
    ];
    const boolean = jsonata('$boolean($v)');
    for (const v of values) {
      assert.equal(isTruthy(v), await boolean.evaluate({}, { v }), `isTruthy(${JSON.stringify(v)})`);
    }
    assert.equal(isTruthy(undefined), false);
    assert.equal(
      isTruthy(() => true),
      false,
    );
  });
});
