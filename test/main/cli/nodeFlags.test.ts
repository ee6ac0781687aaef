import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ENGINE_NODE_FLAGS, engineFlagsApplied } from '../../../main/cli/nodeFlags.js';
import { startCli } from '../../helpers/cli.js';
import { repoRoot, tempDir } from '../../helpers/paths.js';

describe('engine Node flags', () => {
  it('are in the launcher shebang, exactly, and npm start spawns the engine with them', () => {
    const source = readFileSync(join(repoRoot, 'main/cli/topicflow.ts'), 'utf8');
    assert.equal(source.split('\n')[0], `#!/usr/bin/env -S node ${ENGINE_NODE_FLAGS.join(' ')}`);
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: { start: string } };
    assert.match(pkg.scripts.start, /node dist\/main\/cli\/start\.js$/);
    assert.match(readFileSync(join(repoRoot, 'main/cli/start.ts'), 'utf8'), /\[\.\.\.ENGINE_NODE_FLAGS, cli, 'serve'/);
  });

  it('are recognised on the command line or in NODE_OPTIONS, all of them', () => {
    assert.equal(engineFlagsApplied([...ENGINE_NODE_FLAGS], ''), true);
    assert.equal(engineFlagsApplied([], ENGINE_NODE_FLAGS.join(' ')), true);
    assert.equal(engineFlagsApplied([ENGINE_NODE_FLAGS[0] as string], ''), false);
    assert.equal(engineFlagsApplied([], ''), false);
  });

  it('are reported by `topicflow run`, with a warning when missing', async () => {
    const dir = tempDir('topicflow-flags-');
    try {
      const cli = startCli(['run', 'flows/demo.json', '--data-dir', dir.path]);
      const starting = await cli.waitForLog('starting');
      assert.equal(starting['memoryFlags'], true);
      await cli.stop();
      assert.equal(
        cli.logs().some((l) => String(l['msg']).startsWith('started without the memory settings')),
        false,
      );
    } finally {
      dir.cleanup();
    }
  });
});
