import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { filterCovers, filterProblem, isUnder, minimalFilters } from '../../../../shared/explorer/topicFilters.js';

describe('explorer topic filters', () => {
  it('tells when one filter covers another', () => {
    const cases: [string, string, boolean][] = [
      ['#', 'a/b', true],
      ['#', '$SYS/x', false],
      ['a/#', 'a', true],
      ['a/#', 'a/b/c', true],
      ['a/+', 'a/b', true],
      ['a/+', 'a/#', false],
      ['a/+', 'a/b/c', false],
      ['+/b', 'a/b', true],
      ['+/b', '$x/b', false],
      ['a/b', 'a/+', false],
      ['a/b', 'a/b', true],
      ['a/+/c', 'a/+/c', true],
    ];
    for (const [outer, inner, expected] of cases)
      assert.equal(filterCovers(outer, inner), expected, `${outer} ⊇ ${inner}`);
  });

  it('keeps only the filters no other one covers, in order, once', () => {
    assert.deepEqual(minimalFilters(['a/b', '#', 'a/+']), ['#']);
    assert.deepEqual(minimalFilters(['a/+', '+/b', 'a/+']), ['a/+', '+/b']);
    assert.deepEqual(minimalFilters(['x/#', 'x/#']), ['x/#']);
    assert.deepEqual(minimalFilters(['$SYS/#', '#']), ['$SYS/#', '#']);
  });

  it('names what is wrong with a filter; isUnder respects level boundaries', () => {
    assert.equal(filterProblem('a/+/#'), undefined);
    assert.match(filterProblem('a/#/b') ?? '', /last level/);
    assert.match(filterProblem('{x}/y') ?? '', /named wildcards/);
    assert.equal(isUnder('a/b', 'a'), true);
    assert.equal(isUnder('a', 'a'), true);
    assert.equal(isUnder('ab', 'a'), false);
  });
});
