import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ESLint } from 'eslint';
import ts from 'typescript';
import { repoRoot } from './helpers/paths.js';

/** Lints `code` as if it were a file at `path` in the repository. */
async function importErrors(path: string, code: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: repoRoot });
  const [result] = await eslint.lintText(code, { filePath: join(repoRoot, path) });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('import rules (DESIGN.md) fail the lint', () => {
  it('shared/ may not import Node, Electron, React or main/', async () => {
    for (const line of [
      "import { readFileSync } from 'node:fs';",
      "import { join } from 'path';",
      "import { app } from 'electron';",
      "import { useState } from 'react';",
      "import { FlowEngine } from '../main/engine/flowEngine.js';",
      "import Database from 'better-sqlite3';",
    ]) {
      const errors = await importErrors('shared/nodes/example.ts', `${line}\nexport const x = 1;\n`);
      assert.ok(errors.length > 0, `expected ${line} to be refused in shared/`);
      assert.match(errors[0] as string, /shared\/ is platform-neutral/);
    }
  });

  it('shared/ may import shared/ and platform-neutral libraries', async () => {
    const errors = await importErrors(
      'shared/nodes/example.ts',
      "import { Type } from '@sinclair/typebox';\nimport { getNodeSpec } from './catalog.js';\nexport const x = [Type, getNodeSpec];\n",
    );
    assert.deepEqual(errors, []);
  });

  it('main/engine may not import electron, the CLI or the renderer', async () => {
    for (const line of [
      "import { app } from 'electron';",
      "import { x } from '../cli/topicflow.js';",
      "import { x } from '../../renderer/App.js';",
    ]) {
      const errors = await importErrors('main/engine/example.ts', `${line}\nexport const y = x;\n`);
      assert.ok(errors.length > 0, `expected ${line} to be refused in main/engine/`);
    }
    assert.deepEqual(
      await importErrors(
        'main/engine/example.ts',
        "import { readFileSync } from 'node:fs';\nexport const y = readFileSync;\n",
      ),
      [],
    );
  });

  it('main/server may import main/engine and shared/, never electron, the renderer or the CLI', async () => {
    for (const line of [
      "import { app } from 'electron';",
      "import { x } from '../cli/topicflow.js';",
      "import { x } from '../../renderer/App.js';",
    ]) {
      const errors = await importErrors('main/server/example.ts', `${line}\nexport const y = x;\n`);
      assert.ok(errors.length > 0, `expected ${line} to be refused in main/server/`);
      assert.match(errors[0] as string, /main\/server may import/);
    }
    assert.deepEqual(
      await importErrors(
        'main/server/example.ts',
        "import { createServer } from 'node:http';\nimport { FlowEngine } from '../engine/flowEngine.js';\nimport { getNodeSpec } from '../../shared/nodes/catalog.js';\nexport const y = [createServer, FlowEngine, getNodeSpec];\n",
      ),
      [],
    );
  });

  it('main/engine may not import main/server', async () => {
    const errors = await importErrors(
      'main/engine/example.ts',
      "import { healthOf } from '../server/health.js';\nexport const y = healthOf;\n",
    );
    assert.ok(errors.length > 0);
  });

  it('renderer/ may import shared/ and browser libraries, never Node, main/ or electron', async () => {
    for (const [path, line] of [
      ['renderer/store.ts', "import { readFileSync } from 'node:fs';"],
      ['renderer/components/App.tsx', "import { join } from 'path';"],
      ['renderer/store.ts', "import { app } from 'electron';"],
      ['renderer/store.ts', "import { FlowEngine } from '../main/engine/flowEngine.js';"],
      ['renderer/components/App.tsx', "import { x } from '../../main/server/editorServer.js';"],
      ['renderer/store.ts', "import mqtt from 'mqtt';"],
    ] as const) {
      const errors = await importErrors(
        path,
        `${line}\nexport const y = [${line.split(' ')[1]?.replace(/[{}]/g, '')}];\n`,
      );
      assert.ok(errors.length > 0, `expected ${line} to be refused in ${path}`);
      assert.match(errors[0] as string, /renderer\/ may import/);
    }
    assert.deepEqual(
      await importErrors(
        'renderer/components/App.tsx',
        "import { useState } from 'react';\nimport { ReactFlow } from '@xyflow/react';\nimport type { FlowDocument } from '../../shared/flow/flowDocument.js';\nexport const y: unknown[] = [useState, ReactFlow];\nexport type D = FlowDocument;\n",
      ),
      [],
    );
  });

  it('main/electron may import electron, shared/ and Node; the engine and server only in engineProcess.ts', async () => {
    for (const line of [
      "import { FlowEngine } from '../engine/flowEngine.js';",
      "import { EngineService } from '../server/engineService.js';",
      "import { x } from '../../renderer/store.js';",
      "import { x } from '../cli/topicflow.js';",
    ]) {
      const errors = await importErrors(
        'main/electron/main.ts',
        `${line}\nexport const y = [${line.split(' ')[2]}];\n`,
      );
      assert.ok(errors.length > 0, `expected ${line} to be refused in main/electron/main.ts`);
      assert.match(errors[0] as string, /main\/electron may import/);
    }
    assert.deepEqual(
      await importErrors(
        'main/electron/main.ts',
        "import { app } from 'electron';\nimport { join } from 'node:path';\nimport { IPC } from '../../shared/desktop/desktopBridge.js';\nexport const y = [app, join, IPC];\n",
      ),
      [],
    );
    assert.deepEqual(
      await importErrors(
        'main/electron/engineProcess.ts',
        "import { FlowEngine } from '../engine/flowEngine.js';\nimport { EngineService } from '../server/engineService.js';\nexport const y = [FlowEngine, EngineService];\n",
      ),
      [],
    );
    // The engine process is plain Node: Electron's types only, never its runtime.
    assert.ok(
      (await importErrors('main/electron/engineProcess.ts', "import { app } from 'electron';\nexport const y = app;\n"))
        .length > 0,
    );
  });

  it("the sandboxed preload requires nothing but electron at run time (shared/'s types are fine)", async () => {
    for (const line of [
      "import { IPC } from '../../shared/desktop/desktopBridge.js';",
      "import { readFileSync } from 'node:fs';",
      "import { x } from './security.js';",
    ]) {
      const errors = await importErrors(
        'main/electron/preload.cts',
        `${line}\nexport const y = [${line.split(' ')[2]}];\n`,
      );
      assert.ok(errors.length > 0, `expected ${line} to be refused in the preload`);
      assert.match(errors[0] as string, /sandboxed preload/);
    }
    assert.deepEqual(
      await importErrors(
        'main/electron/preload.cts',
        "import type { IPC } from '../../shared/desktop/desktopBridge.js';\nexport type Y = typeof IPC;\n",
      ),
      [],
    );
  });

  it('main/cli may not import electron', async () => {
    assert.ok(
      (await importErrors('main/cli/example.ts', "import { app } from 'electron';\nexport const y = app;\n")).length >
        0,
    );
  });
});

describe("shared/'s tsconfig has no Node or DOM types", () => {
  it('refuses Node and DOM globals when compiling shared code', () => {
    const configPath = join(repoRoot, 'shared', 'tsconfig.json');
    const config = ts.readConfigFile(configPath, (p) => ts.sys.readFile(p));
    const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, join(repoRoot, 'shared'));
    const file = join(repoRoot, 'shared', '__layering_probe__.ts');
    const source =
      'export const a = process.env;\nexport const b = Buffer.from("x");\nexport const c = document.title;\n';
    const host = ts.createCompilerHost({ ...parsed.options, noEmit: true });
    const readFile = host.readFile.bind(host);
    host.readFile = (p) => (p === file ? source : readFile(p));
    const fileExists = host.fileExists.bind(host);
    host.fileExists = (p) => p === file || fileExists(p);
    const program = ts.createProgram(
      [file],
      { ...parsed.options, noEmit: true, composite: false, incremental: false },
      host,
    );
    const messages = ts
      .getPreEmitDiagnostics(program)
      .filter((d) => d.file?.fileName === file)
      .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    assert.ok(
      messages.some((m) => /Cannot find name 'process'/.test(m)),
      messages.join('\n'),
    );
    assert.ok(
      messages.some((m) => /Cannot find name 'Buffer'/.test(m)),
      messages.join('\n'),
    );
    assert.ok(
      messages.some((m) => /Cannot find name 'document'/.test(m)),
      messages.join('\n'),
    );
  });
});
