import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  fileNameFor,
  fileNameProblem,
  literalSecretPointers,
  parseImported,
  withJsonExtension,
} from '../../renderer/graph/fileWorkflow.js';

describe('fileWorkflow', () => {
  it('accepts the workspace file names the engine accepts, and says what is wrong with the others', () => {
    for (const ok of ['a.json', 'pico-sensors.json', 'v1.2_final.json', 'A-Z.json']) {
      assert.equal(fileNameProblem(ok), undefined, ok);
    }
    const cases: [string, RegExp][] = [
      ['', /Type a file name/],
      ['flow', /end in \.json/],
      ['my flow.json', /letters, digits/],
      ['../x.json', /letters, digits/],
      ['a/b.json', /letters, digits/],
      ['a..b.json', /"\.\."/],
      ['é.json', /letters, digits/],
    ];
    for (const [name, problem] of cases) assert.match(fileNameProblem(name) ?? 'accepted', problem, name);
  });

  it('adds .json when it is missing and derives names from flow names', () => {
    assert.equal(withJsonExtension(' flow '), 'flow.json');
    assert.equal(withJsonExtension('flow.json'), 'flow.json');
    assert.equal(withJsonExtension(''), '');
    assert.equal(fileNameFor('Pico sensors'), 'pico-sensors.json');
    assert.equal(fileNameFor('Export (v2).JSON'), 'export-v2.json');
    assert.equal(fileNameFor('..'), 'flow.json');
    assert.equal(fileNameProblem(fileNameFor('a..b  c')), undefined);
  });

  it('picks the literal-secret refusals out of an export problem list', () => {
    const problems = [
      {
        pointer: '/connections/0/password',
        message: 'holds a literal secret, which export refuses: ...',
        severity: 'error',
      },
      { pointer: '/nodes/1/config/table', message: 'must match pattern', severity: 'error' },
      { pointer: '/nodes/2/config/token', message: 'held a literal secret; replaced', severity: 'warning' },
    ] as const;
    assert.deepEqual(literalSecretPointers(problems), ['/connections/0/password']);
  });

  it('parses an imported file into a document the canvas can show, or says why not', () => {
    const good = parseImported(JSON.stringify({ name: 'x', nodes: [{ id: 'a', type: 'nope', config: 1 }] }));
    assert.equal(good.ok, true);
    const cases: [string, RegExp][] = [
      ['{', /not JSON/],
      ['[]', /JSON object/],
      ['{"nodes": {}}', /"nodes" must be an array/],
      ['{"nodes": [], "edges": 3}', /"edges" must be an array/],
      ['{"nodes": [{"type": "x"}]}', /\/nodes\/0 has no string "id"/],
      ['{"nodes": [], "edges": [{"from": {"node": "a"}}]}', /\/edges\/0 needs "from" and "to"/],
    ];
    for (const [text, error] of cases) {
      const result = parseImported(text);
      assert.match(result.ok ? 'accepted' : result.error, error, text);
    }
  });
});
