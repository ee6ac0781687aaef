import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { previewPayload } from '../../../../main/engine/nodes/debugNode.js';
import type { DebugEvent } from '../../../../main/engine/runtime/nodeRuntime.js';
import { brokerFixture } from '../../../helpers/brokerFixture.js';
import { waitFor } from '../../../helpers/waitFor.js';
import { publishAll, settle, startFlow } from '../engineTestKit.js';

const fixture = brokerFixture();

describe('debug', () => {
  it('sends each message to the engine event stream as a preview, and to the log when asked', async (t) => {
    const run = await startFlow(
      fixture.broker.url,
      [
        { id: 'in-auto', type: 'mqtt-in', config: { connection: 'broker', topic: 'd1/auto/+' } },
        { id: 'in-bin', type: 'mqtt-in', config: { connection: 'broker', topic: 'd1/bin/+', decoding: 'binary' } },
        { id: 'full', type: 'debug', config: { log: true } },
        { id: 'short', type: 'debug', config: { previewBytes: 16 } },
      ],
      [
        ['in-auto', 'out', 'full'],
        ['in-auto', 'out', 'short'],
        ['in-bin', 'out', 'full'],
      ],
    );
    t.after(() => run.stop());
    const events: DebugEvent[] = [];
    run.engine.events.on('debug', (event: DebugEvent) => events.push(event));

    const before = Date.now();
    await fixture.client.publishAsync('d1/auto/a', '{"temperature":21.5,"note":"a fairly long note"}', { qos: 1 });
    await fixture.client.publishAsync('d1/bin/b', Buffer.from([0x01, 0xab, 0xff]), { qos: 1 });
    await waitFor('3 debug events', () => events.length >= 3);
    await settle(50);

    const byNode = (node: string) => events.filter((e) => e.node === node);
    assert.equal(events.length, 3);
    const [json, binary] = byNode('full');
    assert.deepEqual(
      { ...json, at: undefined },
      {
        node: 'full',
        at: undefined,
        topic: 'd1/auto/a',
        preview: '{"temperature":21.5,"note":"a fairly long note"}',
        truncated: false,
      },
    );
    assert.ok((json?.at ?? 0) >= before - 1000 && (json?.at ?? 0) <= Date.now(), 'at is the receive time');
    assert.deepEqual(
      { ...binary, at: undefined },
      { node: 'full', at: undefined, topic: 'd1/bin/b', preview: '<3 bytes> 01abff', truncated: false },
    );
    assert.deepEqual(
      byNode('short').map((e) => [e.topic, e.preview, e.truncated]),
      [['d1/auto/a', '{"temperature":2', true]],
    );

    const logged = run.logs.filter((r) => r.msg === 'debug message');
    assert.deepEqual(
      logged.map((r) => (r['debug'] as DebugEvent).preview),
      ['{"temperature":21.5,"note":"a fairly long note"}', '<3 bytes> 01abff'],
    );
    assert.ok(!run.logs.some((r) => r.msg === 'debug message' && r['node'] === 'short'), 'log is off by default');
    assert.deepEqual(run.node('full').counters, { in: 2, out: 2, errors: 0, dropped: 0 });
  });

  it('shows at most maxPerSecond messages a second and counts the rest as dropped', async (t) => {
    const run = await startFlow(
      fixture.broker.url,
      [
        { id: 'in', type: 'mqtt-in', config: { connection: 'broker', topic: 'd2/+' } },
        { id: 'dbg', type: 'debug', config: { maxPerSecond: 5 } },
      ],
      [['in', 'out', 'dbg']],
    );
    t.after(() => run.stop());
    const events: DebugEvent[] = [];
    run.engine.events.on('debug', (event: DebugEvent) => events.push(event));

    // One burst, well inside one second.
    await publishAll(
      fixture.client,
      'd2/x',
      Array.from({ length: 20 }, (_, n) => String(n)),
    );
    await waitFor('20 in', () => run.node('dbg').counters.in === 20);
    assert.deepEqual(
      events.map((e) => e.preview),
      ['0', '1', '2', '3', '4'],
    );
    assert.deepEqual(run.node('dbg').counters, { in: 20, out: 5, errors: 0, dropped: 15 });

    // A second later the window has moved on: messages show again.
    await settle(1100);
    await fixture.client.publishAsync('d2/x', '"again"', { qos: 1 });
    await waitFor('the next event', () => events.length === 6);
    assert.equal(events[5]?.preview, 'again');
  });
});

describe('previewPayload', () => {
  it('previews JSON, text and bytes, truncating at the limit', () => {
    assert.deepEqual(previewPayload({ a: [1, 2] }, 100), { preview: '{"a":[1,2]}', truncated: false });
    assert.deepEqual(previewPayload('abcdef', 4), { preview: 'abcd', truncated: true });
    assert.deepEqual(previewPayload('abcd', 4), { preview: 'abcd', truncated: false });
    assert.deepEqual(previewPayload(22.4, 100), { preview: '22.4', truncated: false });
    assert.deepEqual(previewPayload(null, 100), { preview: 'null', truncated: false });
    assert.deepEqual(previewPayload(new Uint8Array([0, 255]), 100), { preview: '<2 bytes> 00ff', truncated: false });
    const big = previewPayload(Buffer.alloc(1000, 0xaa), 32);
    assert.equal(big.preview, `<1000 bytes> ${'a'.repeat(19)}`);
    assert.equal(big.truncated, true);
  });
});
