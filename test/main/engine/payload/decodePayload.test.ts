import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodePayload, exceedsDepth, PayloadError } from '../../../../main/engine/payload/decodePayload.js';

const MAX_DEPTH = 64;
const decode = (payload: string | Buffer, decoding: Parameters<typeof decodePayload>[1]): unknown =>
  decodePayload(typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload, decoding, MAX_DEPTH);

/** Asserts that decoding throws a PayloadError whose message matches `message`. */
function assertRefused(
  payload: string | Buffer,
  decoding: Parameters<typeof decodePayload>[1],
  message: RegExp,
  maxDepth = MAX_DEPTH,
): void {
  const raw = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  assert.throws(
    () => decodePayload(raw, decoding, maxDepth),
    (error: unknown) => {
      assert.ok(error instanceof PayloadError, `expected a PayloadError, got ${String(error)}`);
      assert.ok(error instanceof Error);
      assert.match(error.message, message);
      return true;
    },
  );
}

const INVALID_UTF8 = Buffer.from([0xff, 0xfe]);
const DEEP = '['.repeat(10_000) + ']'.repeat(10_000);
const PROTO = '{"__proto__":{"polluted":1}}';
const CONSTRUCTOR_PROTOTYPE = '{"constructor":{"prototype":{"x":1}}}';

describe('decodePayload: auto', () => {
  it('parses JSON values of every kind', () => {
    assert.deepEqual(decode('{"temperature":21.5,"tags":["a","b"],"ok":true,"none":null}', 'auto'), {
      temperature: 21.5,
      tags: ['a', 'b'],
      ok: true,
      none: null,
    });
    assert.deepEqual(decode('[1,2,3]', 'auto'), [1, 2, 3]);
    assert.equal(decode('"quoted"', 'auto'), 'quoted');
    assert.equal(decode('true', 'auto'), true);
    assert.equal(decode('false', 'auto'), false);
    assert.equal(decode('null', 'auto'), null);
    assert.deepEqual(decode('  \n{"a":1}\n', 'auto'), { a: 1 });
  });

  it('turns an ASCII float such as 22.4 into a number', () => {
    assert.equal(decode('22.4', 'auto'), 22.4);
    assert.equal(decode('-5', 'auto'), -5);
    assert.equal(decode(' 42 ', 'auto'), 42);
    // Not JSON, but a plain ASCII number all the same.
    assert.equal(decode('.5', 'auto'), 0.5);
    assert.equal(decode('1.', 'auto'), 1);
    assert.equal(decode('+3', 'auto'), 3);
  });

  it('falls back to text for anything that is neither JSON nor a number', () => {
    assert.equal(decode('hello', 'auto'), 'hello');
    assert.equal(decode('{not json', 'auto'), '{not json');
    assert.equal(decode('0x10', 'auto'), '0x10');
    assert.equal(decode('123abc', 'auto'), '123abc');
    assert.equal(decode('NaN', 'auto'), 'NaN');
    assert.equal(decode('Infinity', 'auto'), 'Infinity');
    assert.equal(decode('ON', 'auto'), 'ON');
    assert.equal(decode('   ', 'auto'), '   ');
    assert.equal(decode('température 21°', 'auto'), 'température 21°');
  });

  it('refuses an empty payload', () => {
    assertRefused(Buffer.alloc(0), 'auto', /^empty payload$/);
  });

  it('refuses invalid UTF-8', () => {
    assertRefused(INVALID_UTF8, 'auto', /not valid UTF-8/);
    assertRefused(Buffer.concat([Buffer.from('{"a":"'), INVALID_UTF8, Buffer.from('"}')]), 'auto', /not valid UTF-8/);
  });

  it('refuses 10,000-deep nesting, naming the depth limit, instead of falling back to text', () => {
    assertRefused(DEEP, 'auto', /nested deeper than 64 levels/);
  });

  it('refuses __proto__ and constructor.prototype keys and pollutes nothing', () => {
    assertRefused(PROTO, 'auto', /refused JSON/);
    assertRefused(CONSTRUCTOR_PROTOTYPE, 'auto', /refused JSON/);
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
    assert.equal(({} as Record<string, unknown>)['x'], undefined);
  });
});

describe('decodePayload: json', () => {
  it('parses JSON, including a bare number', () => {
    assert.deepEqual(decode('{"a":{"b":[1,{"c":"d"}]}}', 'json'), { a: { b: [1, { c: 'd' }] } });
    assert.equal(decode('22.4', 'json'), 22.4);
    assert.equal(decode('"text"', 'json'), 'text');
    assert.equal(decode('null', 'json'), null);
  });

  it('refuses malformed JSON with a PayloadError that says so', () => {
    for (const text of ['{"a":', '{bad}', 'hello', '.5', '1.', "{'a':1}", '[1,2,]', '{"a":1}}', ' ']) {
      assertRefused(text, 'json', /^malformed JSON: /);
    }
  });

  it('refuses an empty payload and invalid UTF-8', () => {
    assertRefused(Buffer.alloc(0), 'json', /^empty payload$/);
    assertRefused(INVALID_UTF8, 'json', /not valid UTF-8/);
  });

  it('refuses 10,000-deep nesting, naming the depth limit', () => {
    assertRefused(DEEP, 'json', /^JSON nested deeper than 64 levels$/);
    const deepObject = '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000);
    assertRefused(deepObject, 'json', /nested deeper than 64 levels/);
  });

  it('accepts nesting up to maxDepth and refuses one level more', () => {
    const nested = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);
    assert.deepEqual(decodePayload(Buffer.from(nested(3)), 'json', 3), [[[]]]);
    assertRefused(nested(4), 'json', /nested deeper than 3 levels/, 3);
    assert.ok(Array.isArray(decode(nested(MAX_DEPTH), 'json')));
    assertRefused(nested(MAX_DEPTH + 1), 'json', /nested deeper than 64 levels/);
  });

  it('does not count brackets inside strings towards the depth', () => {
    const bracketsInString = JSON.stringify({ note: '['.repeat(10_000) + '{'.repeat(10_000) });
    assert.deepEqual(decode(bracketsInString, 'json'), { note: '['.repeat(10_000) + '{'.repeat(10_000) });
  });

  it('refuses __proto__ keys at any depth and pollutes no prototype', () => {
    assertRefused(PROTO, 'json', /^refused JSON: .*prototype/);
    assertRefused('{"a":[{"b":{"__proto__":{"polluted":1}}}]}', 'json', /^refused JSON/);
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
    assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted'), false);
  });

  it('refuses constructor.prototype and pollutes no prototype', () => {
    assertRefused(CONSTRUCTOR_PROTOTYPE, 'json', /^refused JSON/);
    assert.equal(({} as Record<string, unknown>)['x'], undefined);
  });

  it('keeps an ordinary "constructor" key that has no "prototype" in it', () => {
    assert.deepEqual(decode('{"constructor":{"name":"pump"}}', 'json'), { constructor: { name: 'pump' } });
  });
});

describe('decodePayload: text', () => {
  it('returns the text unchanged, JSON and numbers included', () => {
    assert.equal(decode('22.4', 'text'), '22.4');
    assert.equal(decode('{"a":1}', 'text'), '{"a":1}');
    assert.equal(decode(' spaced ', 'text'), ' spaced ');
    assert.equal(decode('naïve ✓', 'text'), 'naïve ✓');
    // Text is never parsed, so the JSON guards do not apply to it.
    assert.equal(decode(DEEP, 'text'), DEEP);
    assert.equal(decode(PROTO, 'text'), PROTO);
  });

  it('decodes an empty payload as the empty string', () => {
    assert.equal(decode(Buffer.alloc(0), 'text'), '');
  });

  it('refuses invalid UTF-8', () => {
    assertRefused(INVALID_UTF8, 'text', /not valid UTF-8/);
  });
});

describe('decodePayload: number', () => {
  it('parses ASCII numbers', () => {
    assert.equal(decode('22.4', 'number'), 22.4);
    assert.equal(decode(' -1e3 ', 'number'), -1000);
    assert.equal(decode('0', 'number'), 0);
    assert.equal(decode('.25', 'number'), 0.25);
    assert.equal(decode('7E-2', 'number'), 0.07);
  });

  it('refuses anything else, quoting the start of the payload', () => {
    assertRefused('abc', 'number', /^payload is not a number: "abc"$/);
    assertRefused('{"a":1}', 'number', /not a number/);
    assertRefused('0x10', 'number', /not a number/);
    assertRefused('NaN', 'number', /not a number/);
    assertRefused('Infinity', 'number', /not a number/);
    assertRefused('1 2', 'number', /not a number/);
    assertRefused('x'.repeat(1000), 'number', new RegExp(`^payload is not a number: "${'x'.repeat(40)}"$`));
  });

  it('refuses a number too large to represent', () => {
    assertRefused('1e400', 'number', /too large/);
  });

  it('refuses an empty payload and invalid UTF-8', () => {
    assertRefused(Buffer.alloc(0), 'number', /^empty payload$/);
    assertRefused(INVALID_UTF8, 'number', /not valid UTF-8/);
  });
});

describe('decodePayload: binary', () => {
  it('returns the bytes as they are, whatever they hold', () => {
    for (const raw of [INVALID_UTF8, Buffer.alloc(0), Buffer.from(DEEP), Buffer.from(PROTO), Buffer.from([0, 1, 2])]) {
      const decoded = decode(raw, 'binary');
      assert.ok(Buffer.isBuffer(decoded));
      assert.deepEqual(decoded, raw);
    }
  });
});

describe('exceedsDepth', () => {
  it('counts objects and arrays alike', () => {
    assert.equal(exceedsDepth('{"a":[{"b":[]}]}', 4), false);
    assert.equal(exceedsDepth('{"a":[{"b":[]}]}', 3), true);
    // Siblings do not add up: only the deepest path counts.
    assert.equal(exceedsDepth('[[],[],[[]]]', 3), false);
    assert.equal(exceedsDepth('[[],[],[[]]]', 2), true);
    assert.equal(exceedsDepth('[[],{},[],{}]', 2), false);
    assert.equal(exceedsDepth('42', 1), false);
  });

  it('skips brackets inside strings', () => {
    assert.equal(exceedsDepth('{"a":"[[[[[{{{{{"}', 1), false);
    assert.equal(exceedsDepth('["{[{[", "]]]]", "[[[["]', 1), false);
  });

  it('handles escaped quotes and backslashes inside strings', () => {
    // The \" does not end the string, so the brackets after it are still text.
    assert.equal(exceedsDepth('{"a":"\\"[[[["}', 1), false);
    // "\\" ends with an escaped backslash, so the quote after it does end the string.
    assert.equal(exceedsDepth('{"a":"\\\\","b":[[[]]]}', 3), true);
    assert.equal(exceedsDepth('{"a":"\\\\","b":[[[]]]}', 4), false);
  });

  it('stops at the first level too deep', () => {
    assert.equal(exceedsDepth(DEEP, 64), true);
    assert.equal(exceedsDepth(DEEP, 10_000), false);
  });
});

describe('numbers beyond a double', () => {
  it('refuses JSON holding a number that would become Infinity', () => {
    assertRefused('{"a":[1,{"b":1e400}]}', 'json', /too large to represent/);
    assertRefused(`{"a":${'9'.repeat(400)}}`, 'auto', /too large to represent/);
    assertRefused('1e999', 'number', /too large to represent/);
  });

  it('accepts large but finite numbers and exponents', () => {
    assert.deepEqual(decode('{"a":1e300,"b":1.5e-320,"c":123e100}', 'json'), { a: 1e300, b: 1.5e-320, c: 123e100 });
  });
});
