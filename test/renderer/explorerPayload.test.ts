import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { alignSeries, appendPoints } from '../../renderer/explorer/model/chartData.js';
import {
  compactNumber,
  decodePayload,
  encodeBase64,
  hexDump,
  numericFields,
  relativeTime,
} from '../../renderer/explorer/model/payload.js';
import { jsonDiff, lineDiff } from '../../renderer/explorer/model/payloadDiff.js';

const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('explorer payload views', () => {
  it('decodes JSON, numbers, text and invalid UTF-8', () => {
    const json = decodePayload(b64('{"t":21.5,"ok":true}'));
    assert.deepEqual(json.json?.value, { t: 21.5, ok: true });
    assert.equal(json.number, undefined);
    const number = decodePayload(b64(' 22.5 '));
    assert.equal(number.number, 22.5);
    assert.equal(decodePayload(b64('12abc')).number, undefined);
    const text = decodePayload(b64('hello'));
    assert.equal(text.text, 'hello');
    assert.equal(text.json, undefined);
    const binary = decodePayload(Buffer.from([0xff, 0xfe, 0x41]).toString('base64'));
    assert.equal(binary.utf8, false);
    assert.equal(binary.json, undefined);
    assert.deepEqual([...binary.bytes], [0xff, 0xfe, 0x41]);
    assert.equal(encodeBase64(new Uint8Array([1, 2, 250])), Buffer.from([1, 2, 250]).toString('base64'));
  });

  it('dumps hex with offsets and ASCII, bounded', () => {
    const dump = hexDump(new TextEncoder().encode('ABCDEFGHIJKLMNOPQ'));
    const lines = dump.split('\n');
    assert.equal(lines.length, 2);
    assert.match(lines[0] ?? '', /^00000000 {2}41 42 43 44 45 46 47 48 {2}49 .* \|ABCDEFGHIJKLMNOP\|$/);
    assert.match(lines[1] ?? '', /^00000010 {2}51 .*\|Q\|$/);
    assert.match(hexDump(new Uint8Array(100), 32), /… 68 more bytes$/);
  });

  it('lists numeric JSON fields by dotted path', () => {
    assert.deepEqual(numericFields({ a: 1, b: { c: 2, d: 'x' }, e: [1, 2], f: null }), ['a', 'b.c']);
    assert.deepEqual(numericFields(5), []);
  });

  it('formats counts and times compactly', () => {
    assert.equal(compactNumber(999), '999');
    assert.equal(compactNumber(1500), '1.5k');
    assert.equal(compactNumber(250_000), '250k');
    assert.equal(compactNumber(2_500_000), '2.5M');
    assert.equal(relativeTime(10_000, 13_000), '3 s ago');
    assert.equal(relativeTime(0, 13_000), '');
    assert.equal(relativeTime(0 + 1, 1 + 5 * 60_000), '5 min ago');
  });
});

describe('explorer diff against the previous message', () => {
  it('lists JSON changes by key path', () => {
    const { changes, more } = jsonDiff(
      { t: 20, unit: 'C', meta: { fw: 1, id: 'a' }, list: [1, 2] },
      { t: 21, meta: { fw: 2, id: 'a' }, list: [1, 2, 3], extra: true },
    );
    assert.equal(more, 0);
    assert.deepEqual(changes, [
      { path: 't', kind: 'changed', before: 20, after: 21 },
      { path: 'unit', kind: 'removed', before: 'C' },
      { path: 'meta.fw', kind: 'changed', before: 1, after: 2 },
      { path: 'list[2]', kind: 'added', after: 3 },
      { path: 'extra', kind: 'added', after: true },
    ]);
    assert.deepEqual(jsonDiff({ a: 1 }, { a: 1 }).changes, []);
    assert.deepEqual(jsonDiff(1, 'x').changes, [{ path: '', kind: 'changed', before: 1, after: 'x' }]);
  });

  it('bounds the listed changes', () => {
    const a: Record<string, number> = {};
    const b: Record<string, number> = {};
    for (let i = 0; i < 500; i++) {
      a[`k${i}`] = i;
      b[`k${i}`] = i + 1;
    }
    const { changes, more } = jsonDiff(a, b);
    assert.equal(changes.length, 200);
    assert.equal(more, 300);
  });

  it('diffs text by line', () => {
    assert.deepEqual(lineDiff('a\nb\nc', 'a\nx\nc\nd'), [
      { kind: 'same', text: 'a' },
      { kind: 'removed', text: 'b' },
      { kind: 'added', text: 'x' },
      { kind: 'same', text: 'c' },
      { kind: 'added', text: 'd' },
    ]);
    assert.deepEqual(lineDiff('same', 'same'), [{ kind: 'same', text: 'same' }]);
  });
});

describe('explorer chart data', () => {
  it('keeps at most max points per series, dropping the oldest and out-of-order points', () => {
    const series = { at: [] as number[], values: [] as number[] };
    appendPoints(series, [
      [1, 10],
      [2, 20],
      [3, 30],
    ]);
    appendPoints(
      series,
      [
        [2, 99],
        [4, 40],
        [5, 50],
      ],
      4,
    );
    assert.deepEqual(series.at, [2, 3, 4, 5]);
    assert.deepEqual(series.values, [20, 30, 40, 50]);
  });

  it('aligns series on one time axis (seconds) with nulls for gaps', () => {
    const data = alignSeries([
      { at: [1000, 3000], values: [1, 3] },
      { at: [2000, 3000], values: [20, 30] },
    ]);
    assert.deepEqual(data, [
      [1, 2, 3],
      [1, null, 3],
      [null, 20, 30],
    ]);
  });
});
