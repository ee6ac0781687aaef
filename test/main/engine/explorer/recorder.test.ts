import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { silentLogger } from '../../../../main/engine/logger.js';
import { csvField, Recorder } from '../../../../main/engine/explorer/recorder.js';
import { tempDir } from '../../../helpers/paths.js';

const T0 = 1_700_000_000_000;

describe('Recorder', () => {
  const tmp = tempDir('topicflow-recorder-');
  after(() => tmp.cleanup());

  it('records only matching topics, in batches, and keeps active recordings across a restart', () => {
    const path = join(tmp.path, 'restart.db');
    const first = new Recorder(path, silentLogger(), { flushMs: 60_000, retentionMs: 60_000 });
    first.start('c1', ['a/#'], 0, 1000);
    assert.equal(first.tapFor('c2'), undefined, 'no recording, no tap');
    const tap = first.tapFor('c1');
    assert.ok(tap);
    for (let i = 0; i < 10; i++) tap(i % 2 ? 'a/x' : 'b/x', Buffer.from(String(i)), 1, false, undefined, T0 + i, i + 1);
    // Nothing is written per message: the batch waits for the timer (or a flush).
    const reader = new Database(path, { readonly: true });
    const count = () => (reader.prepare('SELECT count(*) AS n FROM tf_explorer_messages').get() as { n: number }).n;
    assert.equal(count(), 0);
    first.flush();
    assert.equal(count(), 5);
    assert.equal(reader.pragma('journal_mode', { simple: true }), 'wal');
    first.close();

    const second = new Recorder(path, silentLogger(), { flushMs: 10, retentionMs: 60_000 });
    const [info] = second.list();
    assert.deepEqual(
      {
        connection: info?.connection,
        active: info?.active,
        rows: info?.rows,
        oldestAt: info?.oldestAt,
        newestAt: info?.newestAt,
      },
      { connection: 'c1', active: true, rows: 5, oldestAt: T0 + 1, newestAt: T0 + 9 },
    );
    second.tapFor('c1')?.('a/y', Buffer.from('again'), 0, false, undefined, T0 + 20, 1);
    second.flush();
    assert.equal(second.get('c1')?.rows, 6);
    assert.equal(second.stop('c1')?.active, false);
    assert.equal(second.tapFor('c1'), undefined);
    second.close();
    const third = new Recorder(path, silentLogger());
    assert.equal(third.get('c1')?.active, false, 'a stopped recording stays stopped');
    third.close();
    reader.close();
  });

  it('applies retention by row count and by age', () => {
    let now = T0;
    const recorder = new Recorder(join(tmp.path, 'retention.db'), silentLogger(), {
      flushMs: 60_000,
      retentionMs: 60_000,
      now: () => now,
    });
    try {
      recorder.start('c', ['#'], 10_000, 50);
      const tap = recorder.tapFor('c');
      for (let i = 0; i < 120; i++) tap?.('t', Buffer.from(`p${i}`), 0, false, undefined, T0 + i * 100, i + 1);
      recorder.applyRetention();
      let info = recorder.get('c');
      assert.equal(info?.rows, 50);
      assert.equal(info?.oldestAt, T0 + 70 * 100, 'the newest 50 remain');
      assert.equal(info?.bytes, 30 * 3 + 20 * 4, 'p70..p99 and p100..p119');
      now = T0 + 119 * 100 + 10_000 - 1000;
      recorder.applyRetention();
      info = recorder.get('c');
      // Older than now - 10 s: everything before T0 + 10,900 ms goes.
      assert.equal(info?.oldestAt, T0 + 109 * 100);
      assert.equal(info?.rows, 11);
      assert.equal(info?.bytes, 11 * 4);
    } finally {
      recorder.close();
    }
  });

  it('exports JSON Lines and RFC 4180 CSV; non-UTF-8 payloads as base64; bounded by limit', () => {
    const recorder = new Recorder(join(tmp.path, 'export.db'), silentLogger());
    try {
      recorder.start('c', ['#'], 0, 1000);
      const tap = recorder.tapFor('c');
      const tricky = 'a,"quoted"\r\nline 2';
      tap?.('t/text', Buffer.from(tricky), 1, true, { userProperties: { k: 'v' } }, T0, 1);
      tap?.('t/bin', Buffer.from([0xff, 0x00, 0xfe]), 0, false, undefined, T0 + 1, 2);
      tap?.('odd,topic "x"', Buffer.from('plain'), 2, false, undefined, T0 + 2, 3);

      const jsonl = recorder.export('c', 'jsonl');
      assert.equal(jsonl.rows, 3);
      const lines = jsonl.text
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.equal(lines[0]?.['payload'], tricky);
      assert.equal(lines[0]?.['retain'], true);
      assert.deepEqual(lines[0]?.['properties'], { userProperties: { k: 'v' } });
      assert.equal(lines[1]?.['payload'], undefined);
      assert.equal(lines[1]?.['payloadBase64'], Buffer.from([0xff, 0x00, 0xfe]).toString('base64'));
      assert.equal(lines[2]?.['topic'], 'odd,topic "x"');

      const csv = recorder.export('c', 'csv');
      const time = (at: number) => new Date(at).toISOString();
      assert.equal(
        csv.text,
        'at,time,topic,qos,retain,payload,payload_base64\r\n' +
          `${T0},${time(T0)},t/text,1,true,"a,""quoted""\r\nline 2",\r\n` +
          `${T0 + 1},${time(T0 + 1)},t/bin,0,false,,/wD+\r\n` +
          `${T0 + 2},${time(T0 + 2)},"odd,topic ""x""",2,false,plain,\r\n`,
      );
      assert.equal(csvField('plain'), 'plain');
      assert.equal(csvField('say "hi"'), '"say ""hi"""');

      const filtered = recorder.export('c', 'jsonl', { filter: 't/+' });
      assert.equal(filtered.rows, 2);
      const ranged = recorder.export('c', 'jsonl', { from: T0 + 1, to: T0 + 1 });
      assert.equal(ranged.rows, 1);
      const limited = recorder.export('c', 'csv', { limit: 2 });
      assert.deepEqual([limited.rows, limited.truncated], [2, true]);
      assert.deepEqual(
        recorder.topicRows('c', 't/text', T0 + 10, 10).map((r) => r.payload.toString()),
        [tricky],
      );
    } finally {
      recorder.close();
    }
  });
});
