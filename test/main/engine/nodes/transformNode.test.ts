import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkFlow } from '../../../../main/engine/flowLoader.js';
import { flowOf } from '../../../helpers/engineHarness.js';
import { brokerFixture } from '../../../helpers/brokerFixture.js';
import { waitFor } from '../../../helpers/waitFor.js';
import { publishAll, settle, startFlow, waitForRows, type RunningFlow } from '../engineTestKit.js';

const fixture = brokerFixture();

/** mqtt-in (json) → transform → sqlite-sink(row, with the message id). */
function transformFlow(topic: string, config: Record<string, unknown>): Promise<RunningFlow> {
  return startFlow(
    fixture.broker.url,
    [
      { id: 'in', type: 'mqtt-in', config: { connection: 'broker', topic, decoding: 'json' } },
      { id: 'shape', type: 'transform', config },
      {
        id: 'sink',
        type: 'sqlite-sink',
        config: { table: 'out', columns: [{ name: 'msg_id', path: 'id', type: 'text' }] },
      },
    ],
    [
      ['in', 'out', 'shape'],
      ['shape', 'out', 'sink'],
    ],
  );
}

const deadLetters = (run: RunningFlow, count: number) =>
  waitFor(`${count} dead letters`, () => {
    const found = run.deadLetters();
    return found.length >= count ? found : undefined;
  });

describe('transform', () => {
  it('replaces the payload, with $params, $topic, $qos and $id bound', async (t) => {
    const run = await transformFlow('plant/{area}/{device}', {
      expression:
        '{ "device": $params.device, "area": $params.area, "topic": $topic, "qos": $qos, "id": $id, "celsius": temperature, "fahrenheit": temperature * 9 / 5 + 32 }',
    });
    t.after(() => run.stop());
    await fixture.client.publishAsync('plant/north/pump-7', '{"temperature":25,"ignored":true}', { qos: 1 });

    const [row] = await waitForRows<{ topic: string; payload: string; msg_id: string }>(
      run,
      'SELECT topic, payload, msg_id FROM out',
      1,
    );
    assert.equal(row?.topic, 'plant/north/pump-7', 'the topic stays');
    assert.match(row?.msg_id ?? '', /^[0-9a-f]{8}-\d+$/);
    assert.deepEqual(JSON.parse(row?.payload ?? ''), {
      device: 'pump-7',
      area: 'north',
      topic: 'plant/north/pump-7',
      qos: 1,
      id: row?.msg_id,
      celsius: 25,
      fahrenheit: 77,
    });
  });

  it('dead-letters a message whose evaluation fails, with the original bytes, and carries on', async (t) => {
    const run = await transformFlow('t2/+', { expression: '{ "sum": a + b }' });
    t.after(() => run.stop());
    await fixture.client.publishAsync('t2/x', '{"a":1,"b":"two"}', { qos: 1 });
    await fixture.client.publishAsync('t2/x', '{"a":1,"b":2}', { qos: 1 });

    assert.deepEqual(await waitForRows(run, 'SELECT payload FROM out', 1), [{ payload: '{"sum":3}' }]);
    const [dead] = await deadLetters(run, 1);
    assert.match(
      dead?.reason ?? '',
      /^transform failed: T2002: The right side of the "\+" operator must evaluate to a number \(at character \d+\)$/,
    );
    assert.equal(dead?.node, 'shape');
    assert.equal(dead?.payload?.toString(), '{"a":1,"b":"two"}');
    assert.equal(dead?.topic, 't2/x');
  });

  it('drops an empty result, or dead-letters it when whenEmpty is dead-letter', async (t) => {
    const drop = await transformFlow('t3/+', { expression: 'missing' });
    t.after(() => drop.stop());
    await fixture.client.publishAsync('t3/x', '{"a":1}', { qos: 1 });
    await waitFor('the drop', () => drop.node('shape').counters.dropped === 1);
    await settle(50);
    assert.deepEqual(drop.deadLetters(), []);
    assert.deepEqual(drop.rows('SELECT * FROM out'), []);

    const dead = await transformFlow('t4/+', { expression: 'missing', whenEmpty: 'dead-letter' });
    t.after(() => dead.stop());
    await fixture.client.publishAsync('t4/x', '{"a":1}', { qos: 1 });
    const [letter] = await deadLetters(dead, 1);
    assert.equal(letter?.reason, 'transform yielded nothing');
    assert.equal(dead.node('shape').counters.dropped, 0);
    assert.deepEqual(dead.rows('SELECT * FROM out'), []);
  });

  it('keeps the arrival order of 500 messages whose evaluations finish out of order', async (t) => {
    // Even messages cost far more evaluation steps than odd ones, so evaluated concurrently
    // the odd ones finish first; results must still leave in arrival order.
    const run = await transformFlow('t5/+', {
      expression: '{ "n": n, "w": n % 2 = 0 ? $sum($map([1..20], function($v) { $v * 2 })) : 0 }',
    });
    t.after(() => run.stop());
    const count = 500;
    await publishAll(
      fixture.client,
      't5/x',
      Array.from({ length: count }, (_, n) => JSON.stringify({ n })),
    );
    const rows = await waitForRows<{ payload: string }>(run, 'SELECT payload FROM out ORDER BY id', count, 15_000);
    const ns = rows.map((r) => (JSON.parse(r.payload) as { n: number }).n);
    assert.deepEqual(
      ns,
      Array.from({ length: count }, (_, n) => n),
    );
    assert.equal((JSON.parse(rows[0]?.payload ?? '') as { w: number }).w, 420, 'the expensive branch really ran');
  });

  it('gives each evaluation of a burst its own time limit, so slow but finite expressions all succeed', async (t) => {
    // One evaluation takes tens of milliseconds; twenty evaluated at once would each take as long
    // as all of them together and pass the 1 s limit, dead-lettered as "infinite loop".
    const run = await transformFlow('t7/+', {
      expression: '{ "n": n, "w": $sum($map([1..4000], function($v) { $v * 2 })) }',
    });
    t.after(() => run.stop());
    const started = Date.now();
    await fixture.client.publishAsync('t7/x', '{"n":-1}', { qos: 1 });
    await waitForRows(run, 'SELECT payload FROM out', 1);
    const single = Date.now() - started;
    assert.ok(single < 500, `one evaluation alone takes ${single} ms, well inside the limit`);

    await publishAll(
      fixture.client,
      't7/x',
      Array.from({ length: 20 }, (_, n) => JSON.stringify({ n })),
    );
    await waitFor('21 results', () => run.rows('SELECT id FROM out').length + run.deadLetters().length >= 21, 15_000);
    assert.deepEqual(
      run.deadLetters().map((d) => d.reason),
      [],
    );
    assert.deepEqual(
      run.rows<{ payload: string }>('SELECT payload FROM out ORDER BY id').map((r) => JSON.parse(r.payload)),
      Array.from({ length: 21 }, (_, i) => ({ n: i - 1, w: 16_004_000 })),
    );
  });

  it('dead-letters runaway recursion (stack and time limits) and the process survives', async (t) => {
    const run = await transformFlow('t6/+', {
      expression:
        'kind = "loop" ? ($f := function($x) { $f($x) }; $f(1)) : kind = "deep" ? ($g := function($x) { 1 + $g($x) }; $g(1)) : { "ok": n }',
    });
    t.after(() => run.stop());
    const started = Date.now();
    await fixture.client.publishAsync('t6/x', '{"kind":"loop"}', { qos: 1 });
    await fixture.client.publishAsync('t6/x', '{"kind":"deep"}', { qos: 1 });
    await fixture.client.publishAsync('t6/x', '{"kind":"fine","n":1}', { qos: 1 });

    assert.deepEqual(await waitForRows(run, 'SELECT payload FROM out', 1, 15_000), [{ payload: '{"ok":1}' }]);
    const dead = await deadLetters(run, 2);
    assert.deepEqual(
      dead.map((d) => d.payload?.toString()),
      ['{"kind":"loop"}', '{"kind":"deep"}'],
    );
    // Tail recursion runs in constant depth: the time limit (1 s) ends it.
    assert.match(dead[0]?.reason ?? '', /^transform failed: D1012: Evaluation timeout after 1000 milliseconds/);
    // Plain recursion hits the depth limit.
    assert.match(dead[1]?.reason ?? '', /^transform failed: D1011: Stack overflow/);
    assert.ok(Date.now() - started < 10_000);
    assert.equal(run.node('shape').state, 'running');

    await fixture.client.publishAsync('t6/x', '{"kind":"fine","n":2}', { qos: 1 });
    await waitForRows(run, 'SELECT payload FROM out', 2);
  });

  it('refuses an expression that does not compile before anything runs', () => {
    const result = checkFlow(
      flowOf('mqtt://127.0.0.1:1', [{ id: 'shape', type: 'transform', config: { expression: '{ "a": ' } }], []),
    );
    assert.equal(result.ok, false);
    assert.equal(result.problems[0]?.pointer, '/nodes/0/config/expression');
    assert.match(result.problems[0]?.message ?? '', /^S\d{4}: /);
  });
});
