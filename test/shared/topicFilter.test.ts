import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isValidTopicName, matchTopic, parseTopicFilter } from '../../shared/topicFilter.js';

const match = (filter: string, topic: string) => matchTopic(parseTopicFilter(filter), topic);

describe('parseTopicFilter', () => {
  it('turns named levels into + and keeps their names', () => {
    const f = parseTopicFilter('{area}/{device}/#');
    assert.equal(f.mqtt, '+/+/#');
    assert.deepEqual(f.names, ['area', 'device', undefined]);
  });

  it('keeps the $share prefix for the broker but matches without it', () => {
    const f = parseTopicFilter('$share/workers/fleet/{device}/telemetry');
    assert.equal(f.mqtt, '$share/workers/fleet/+/telemetry');
    assert.deepEqual({ ...matchTopic(f, 'fleet/dev-1/telemetry') }, { device: 'dev-1' });
  });

  it('refuses malformed filters with a reason', () => {
    assert.throws(() => parseTopicFilter(''), /empty/);
    assert.throws(() => parseTopicFilter('a/#/b'), /"#" must be the last level/);
    assert.throws(() => parseTopicFilter('a/b+/c'), /mixes a wildcard/);
    assert.throws(() => parseTopicFilter('{x}/{x}'), /used twice/);
    assert.throws(() => parseTopicFilter('a/{bad-name}'), /not a valid named wildcard/);
    assert.throws(() => parseTopicFilter('$share/'), /\$share\/<group>\/<filter>/);
  });
});

describe('matchTopic', () => {
  it('follows MQTT wildcard rules', () => {
    assert.ok(match('a/+/c', 'a/b/c'));
    assert.equal(match('a/+/c', 'a/b/d'), undefined);
    assert.equal(match('a/+', 'a/b/c'), undefined);
    assert.ok(match('a/#', 'a'), '# also matches the parent level');
    assert.ok(match('a/#', 'a/b/c'));
    assert.ok(match('#', 'x/y'));
    assert.ok(match('a/+/c', 'a//c'), '+ matches an empty level');
    assert.equal(match('a/b', 'a/b/'), undefined);
    assert.equal(match('a/b', 'a/bc'), undefined);
  });

  it('does not let leading wildcards match $SYS topics', () => {
    assert.equal(match('#', '$SYS/broker/load'), undefined);
    assert.equal(match('+/broker/load', '$SYS/broker/load'), undefined);
    assert.ok(match('$SYS/#', '$SYS/broker/load'));
  });

  it('captures named levels and a named remainder', () => {
    assert.deepEqual(
      { ...match('{area}/{device}/{capability}', 'plant1/pump-7/temperature') },
      {
        area: 'plant1',
        device: 'pump-7',
        capability: 'temperature',
      },
    );
    assert.deepEqual({ ...match('fleet/{device}/{rest#}', 'fleet/d1/a/b') }, { device: 'd1', rest: 'a/b' });
  });

  it('returns params that cannot pollute Object.prototype', () => {
    const params = match('{__proto__}/x', 'polluted/x');
    assert.ok(params);
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  });
});

describe('isValidTopicName', () => {
  it('rejects wildcards and empty names', () => {
    assert.ok(isValidTopicName('a/b'));
    assert.ok(!isValidTopicName(''));
    assert.ok(!isValidTopicName('a/+'));
    assert.ok(!isValidTopicName('a/#'));
  });
});
