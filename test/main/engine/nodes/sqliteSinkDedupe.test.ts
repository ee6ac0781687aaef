import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { flowOf } from '../../../helpers/engineHarness.js';
import { ScriptedBroker } from '../../../helpers/scriptedBroker.js';
import { waitFor } from '../../../helpers/waitFor.js';
import { settle, startFlow, type RunningFlow } from '../engineTestKit.js';

/**
 * Redeliveries are what a crash between commit and PUBACK produces: the broker sends the same
 * PUBLISH again, with its packet id, when the session resumes. A scripted broker sends exactly that.
 */
describe('sqlite-sink dedupe', () => {
  const broker = new ScriptedBroker();
  let url: string;
  before(async () => {
    url = `mqtt://127.0.0.1:${await broker.start()}`;
  });
  after(() => broker.stop());

  async function sinkFlow(dedupe: string | undefined): Promise<RunningFlow> {
    const before = broker.connections;
    const run = await startFlow(
      url,
      [
        { id: 'in', type: 'mqtt-in', config: { connection: 'broker', topic: 't/#', qos: 1, decoding: 'json' } },
        {
          id: 'rows',
          type: 'sqlite-sink',
          config: {
            table: 'readings',
            columns: [{ name: 'n', path: 'payload.n', type: 'integer' }],
            ...(dedupe ? { dedupe } : {}),
          },
        },
      ],
      [['in', 'out', 'rows']],
      { extra: { connections: [{ id: 'broker', url, protocolVersion: 4 }] } },
    );
    await waitFor('connected', () => broker.connections > before);
    return run;
  }

  const acked = async (id: number, times: number) =>
    waitFor(`PUBACK ${id} ×${times}`, () => broker.acks('puback').filter((a) => a === id).length >= times);

  it('auto: writes a redelivered message (same packet id) once, and acknowledges both', async (t) => {
    const run = await sinkFlow(undefined);
    t.after(() => run.stop());
    broker.send(broker.publish(7, 1, { payload: '{"n":1}' }));
    await acked(7, 1);
    broker.send(broker.publish(7, 1, { payload: '{"n":1}', dup: true }));
    await acked(7, 2);
    // The same payload under another packet id is another message: written.
    broker.send(broker.publish(8, 1, { payload: '{"n":1}' }));
    await acked(8, 1);
    await settle(50);
    assert.deepEqual(run.rows('SELECT n FROM readings ORDER BY id'), [{ n: 1 }, { n: 1 }]);
    assert.equal(run.node('rows').counters.out, 2);
    assert.equal(run.rows('SELECT count(*) AS c FROM tf_seen')[0]?.['c' as never], 2);
  });

  it('off: writes every delivery', async (t) => {
    const run = await sinkFlow('off');
    t.after(() => run.stop());
    broker.send(broker.publish(17, 1, { payload: '{"n":2}' }));
    await acked(17, 1);
    broker.send(broker.publish(17, 1, { payload: '{"n":2}', dup: true }));
    await acked(17, 2);
    await settle(50);
    assert.deepEqual(run.rows('SELECT n FROM readings ORDER BY id'), [{ n: 2 }, { n: 2 }]);
  });

  it('a path: one row per distinct value, whatever the packet ids', async (t) => {
    const run = await sinkFlow('payload.n');
    t.after(() => run.stop());
    for (const [id, n] of [
      [21, 5],
      [22, 5],
      [23, 6],
      [24, 5],
    ] as const) {
      broker.send(broker.publish(id, 1, { payload: JSON.stringify({ n }) }));
      await acked(id, 1);
    }
    await settle(50);
    assert.deepEqual(run.rows('SELECT n FROM readings ORDER BY id'), [{ n: 5 }, { n: 6 }]);
  });

  it('forgets keys beyond the window, so tf_seen stays bounded', async (t) => {
    const run = await sinkFlow(undefined);
    t.after(() => run.stop());
    await run.deploy(
      flowOf(
        url,
        [
          { id: 'in', type: 'mqtt-in', config: { connection: 'broker', topic: 't/#', qos: 1, decoding: 'json' } },
          {
            id: 'rows',
            type: 'sqlite-sink',
            config: {
              table: 'readings',
              columns: [{ name: 'n', path: 'payload.n', type: 'integer' }],
              dedupeWindow: 100,
            },
          },
        ],
        [['in', 'out', 'rows']],
        { connections: [{ id: 'broker', url, protocolVersion: 4 }] },
      ),
    );
    for (let id = 1000; id < 1300; id++) broker.send(broker.publish(id, 1, { payload: `{"n":${id}}` }));
    await acked(1299, 1);
    await settle(50);
    assert.equal(run.rows('SELECT count(*) AS c FROM readings')[0]?.['c' as never], 300);
    const kept = run.rows<{ c: number }>('SELECT count(*) AS c FROM tf_seen')[0]?.c ?? 0;
    assert.ok(kept >= 100 && kept <= 111, `tf_seen keeps ${kept} keys for a window of 100`);
  });
});
