import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DEAD_LETTER_MAX_BYTES, STORE_FILE, Store, type DeadLetter } from '../../../../main/engine/store/store.js';
import { tempDir } from '../../../helpers/paths.js';
import { captureLogs } from '../engineTestKit.js';

const letter = (payload: Uint8Array | undefined, reason = 'bad'): DeadLetter => ({
  at: 1,
  seq: 7,
  flow: 'f',
  revision: 'r',
  node: 'n',
  reason,
  topic: 't/1',
  qos: 1,
  payload,
});

describe('Store', () => {
  it('creates its tables in WAL mode and records dead letters binary-safe, capping what it keeps', (t) => {
    const dir = tempDir();
    t.after(() => dir.cleanup());
    const { logger } = captureLogs();
    const store = Store.open(dir.path, logger);
    assert.equal(store.db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(store.db.pragma('user_version', { simple: true }), 3);
    const tables = store.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all();
    assert.deepEqual(tables, ['tf_dead_letters', 'tf_outbox', 'tf_seen']);
    const bytes = Buffer.from([0, 0xff, 0xfe, 10]);
    store.addDeadLetter(letter(bytes));
    store.addDeadLetter(letter(Buffer.alloc(DEAD_LETTER_MAX_BYTES + 10, 1), 'huge'));
    store.flush();
    const rows = store.db
      .prepare('SELECT reason, seq, topic, qos, payload, payload_size FROM tf_dead_letters ORDER BY id')
      .all() as {
      reason: string;
      payload: Buffer;
      payload_size: number;
    }[];
    assert.deepEqual(rows[0], { reason: 'bad', seq: 7, topic: 't/1', qos: 1, payload: bytes, payload_size: 4 });
    assert.equal(rows[1]?.payload.length, DEAD_LETTER_MAX_BYTES);
    assert.equal(rows[1]?.payload_size, DEAD_LETTER_MAX_BYTES + 10);
    store.close();
  });

  it('logs, rather than loses silently, a dead letter that arrives after it closed', (t) => {
    const dir = tempDir();
    t.after(() => dir.cleanup());
    const { logger, records } = captureLogs();
    const store = Store.open(dir.path, logger);
    store.close();
    store.addDeadLetter(letter(Buffer.from('late')));
    const line = records.find((r) => r.msg === 'dead letter after the store closed (not stored)');
    assert.ok(line, 'an error line records it');
    assert.equal(line['payloadBase64'], Buffer.from('late').toString('base64'));
    assert.equal(line['reason'], 'bad');
    assert.equal(line['level'], 50);
  });

  it('refuses a store written by a newer version', (t) => {
    const dir = tempDir();
    t.after(() => dir.cleanup());
    const db = new Database(join(dir.path, STORE_FILE));
    db.pragma('user_version = 99');
    db.close();
    assert.throws(() => Store.open(dir.path, captureLogs().logger), /written by a newer TopicFlow \(store schema 99/);
  });
});
