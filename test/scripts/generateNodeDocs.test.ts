import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { GENERATED, renderNodeDocs } from '../../scripts/generateNodeDocs.js';
import { NODE_SPECS } from '../../shared/nodes/catalog.js';
import { repoRoot } from '../helpers/paths.js';

describe('generated docs', () => {
  for (const { file, render } of GENERATED) {
    it(`${file} is up to date (run \`npm run docs\` when this fails)`, () => {
      const committed = readFileSync(join(repoRoot, file), 'utf8');
      assert.equal(committed, render(), `${file} is stale: run npm run docs and commit the result`);
    });
  }

  it('documents every node type, port and config field', () => {
    const docs = renderNodeDocs();
    for (const spec of NODE_SPECS) {
      assert.ok(docs.includes(`## ${spec.type}\n`), spec.type);
      for (const port of [...spec.inputs, ...spec.outputs])
        assert.ok(docs.includes(`| \`${port.name}\` |`), `${spec.type}.${port.name}`);
      for (const field of Object.keys((spec.config as unknown as { properties: object }).properties)) {
        assert.ok(docs.includes(`| \`${field}\` |`), `${spec.type}.${field}`);
      }
    }
  });

  it('marks secret fields', () => {
    assert.match(renderNodeDocs(), /\| `secretHeaders` \|[^\n]*Secret: use a reference\./);
  });
});
