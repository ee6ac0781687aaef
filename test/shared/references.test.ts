import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findReferences, mapStrings, resolveReferences } from '../../shared/references.js';

describe('references', () => {
  it('finds env and secret references with fallbacks', () => {
    assert.deepEqual(findReferences('Bearer ${env:TOKEN} and ${secret:KEY} or ${env:URL:-mqtt://x:1}'), [
      { kind: 'env', name: 'TOKEN', fallback: undefined, text: '${env:TOKEN}' },
      { kind: 'secret', name: 'KEY', fallback: undefined, text: '${secret:KEY}' },
      { kind: 'env', name: 'URL', fallback: 'mqtt://x:1', text: '${env:URL:-mqtt://x:1}' },
    ]);
  });

  it('resolves references, using a fallback only for env', () => {
    const env: Record<string, string> = { TOKEN: 't0k' };
    const lookup = (name: string) => env[name];
    assert.equal(resolveReferences('Bearer ${env:TOKEN}', lookup), 'Bearer t0k');
    assert.equal(resolveReferences('${env:URL:-mqtt://h:1}', lookup), 'mqtt://h:1');
    assert.throws(() => resolveReferences('${env:MISSING}', lookup), /\$\{env:MISSING\} is not set/);
    assert.throws(() => resolveReferences('${secret:MISSING}', lookup), /not set/);
  });

  it('maps every string of a JSON value with its pointer', () => {
    const seen: string[] = [];
    const out = mapStrings({ a: ['x', { 'b/c': 'y' }], n: 1 }, (s, p) => {
      seen.push(p);
      return s.toUpperCase();
    });
    assert.deepEqual(out, { a: ['X', { 'b/c': 'Y' }], n: 1 });
    assert.deepEqual(seen, ['/a/0', '/a/1/b~1c']);
  });
});
