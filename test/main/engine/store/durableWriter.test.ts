import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { DurableWriter, isStoreFailure } from '../../../../main/engine/store/durableWriter.js';
import { silentLogger } from '../../../../main/engine/logger.js';
import { waitFor } from '../../../helpers/waitFor.js';

/** A real SQLite table with a CHECK (a bad row) and a page bound (a full disk) to make both failures. */
function setup() {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE t (n INTEGER NOT NULL CHECK (n >= 0), pad TEXT)');
  const insert = db.prepare('INSERT INTO t (n, pad) VALUES (?, ?)');
  const writeAll = db.transaction((items: number[]) => {
    for (const n of items) insert.run(n, 'x'.repeat(2000));
  });
  const reports: (string | undefined)[] = [];
  const committed: number[] = [];
  const rejected: number[] = [];
  let isOpen = true;
  const writer = new DurableWriter<number>({
    batchSize: 10,
    write: writeAll,
    committed: (items) => committed.push(...items),
    rejected: (item) => rejected.push(item),
    store: {
      reportWrite: (error?: unknown) => reports.push(error === undefined ? undefined : (error as Error).message),
      get isOpen() {
        return isOpen;
      },
    },
    log: silentLogger(),
    maxWaiting: 5,
    overflow: (n) => n % 2 === 0,
  });
  const rows = () => db.prepare('SELECT n FROM t ORDER BY rowid').pluck().all() as number[];
  const full = (on: boolean) => {
    const pages = db.pragma('page_count', { simple: true }) as number;
    db.pragma(`max_page_count = ${on ? pages : 100000}`);
  };
  return { writer, rows, full, reports, committed, rejected, close: () => (isOpen = false) };
}

describe('DurableWriter', () => {
  it('tells a store failure from a bad row by the SQLite code', () => {
    assert.equal(isStoreFailure(Object.assign(new Error('x'), { code: 'SQLITE_FULL' })), true);
    assert.equal(isStoreFailure(Object.assign(new Error('x'), { code: 'SQLITE_IOERR_WRITE' })), true);
    assert.equal(isStoreFailure(Object.assign(new Error('x'), { code: 'SQLITE_READONLY_DBMOVED' })), true);
    assert.equal(isStoreFailure(Object.assign(new Error('x'), { code: 'SQLITE_CONSTRAINT_CHECK' })), false);
    assert.equal(isStoreFailure(new Error('no code')), false);
  });

  it('rejects only the bad row of a batch and commits the rest, in order', async () => {
    const { writer, rows, committed, rejected } = setup();
    for (const n of [1, 2, -3, 4]) writer.add(n);
    await writer.idle();
    assert.deepEqual(rows(), [1, 2, 4]);
    assert.deepEqual(committed, [1, 2, 4]);
    assert.deepEqual(rejected, [-3]);
  });

  it('keeps a batch the store refused, reports it, and writes it once space returns', async () => {
    const { writer, rows, full, reports, committed, rejected } = setup();
    writer.add(1);
    await writer.idle();
    full(true);
    for (const n of [2, 3, 4]) writer.add(n);
    await waitFor('the failure reported', () => reports.some((r) => r !== undefined && /full/i.test(r)));
    assert.equal(writer.failing, true);
    // Arriving while failing: kept up to maxWaiting, then only what `overflow` keeps (even numbers).
    for (const n of [5, 6, 7, 8, 9, 10]) writer.add(n);
    assert.deepEqual(rows(), [1]);
    assert.deepEqual(committed, [1]);
    full(false);
    await waitFor('written after the retry', () => rows().length >= 8, 5000);
    await writer.idle();
    assert.deepEqual(rows(), [1, 2, 3, 4, 5, 6, 8, 10]);
    assert.deepEqual(rejected, []);
    assert.equal(reports.at(-1), undefined);
    assert.equal(writer.failing, false);
  });

  it('gives up retrying once the store is closed (the broker redelivers)', async () => {
    const { writer, rows, full, reports, close } = setup();
    full(true);
    for (const n of [1, 2, 3]) writer.add(n); // 6 KB: more than the one page left
    await waitFor('failing', () => writer.failing);
    close();
    full(false);
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.deepEqual(rows(), []);
    assert.equal(writer.pending, 0);
    assert.ok(reports.length >= 1);
  });
});
