import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Ajv } from 'ajv';
import yaml from 'js-yaml';
import { repoRoot } from '../helpers/paths.js';

// electron-builder reads its YAML with js-yaml: the same parser here (a devDependency of ours too).

interface BuilderConfig {
  appId: string;
  productName: string;
  files: string[];
  asar: boolean;
  asarUnpack: string[];
  npmRebuild: boolean;
  directories: { output: string };
  electronFuses: Record<string, boolean>;
  linux: { target: string[]; maintainer: string; category: string };
  mac: { target: string[] };
  win: { target: string[] };
}

const config = yaml.load(readFileSync(join(repoRoot, 'electron-builder.yml'), 'utf8')) as BuilderConfig;

describe('electron-builder.yml', () => {
  it("is valid against electron-builder's own JSON schema (app-builder-lib/scheme.json)", () => {
    const schema = JSON.parse(
      readFileSync(join(repoRoot, 'node_modules/app-builder-lib/scheme.json'), 'utf8'),
    ) as object;
    const ajv = new Ajv({ allErrors: true, strict: false });
    const validate = ajv.compile(schema);
    assert.ok(validate(config), ajv.errorsText(validate.errors, { separator: '\n' }));
    // The check can fail: a misspelt key is refused.
    assert.equal(validate({ ...config, asarUnpak: ['x'] }), false);
  });

  it('packages the app, not the repository, with better-sqlite3 unpacked and rebuilt for Electron', () => {
    assert.equal(config.productName, 'TopicFlow');
    assert.match(config.appId, /^[a-z]+(\.[a-z0-9-]+)+$/);
    assert.equal(config.asar, true);
    assert.ok(config.asarUnpack.some((p) => p.startsWith('node_modules/better-sqlite3')));
    assert.equal(config.npmRebuild, true);
    assert.equal(config.directories.output, 'release');
    for (const needed of ['package.json', 'dist/renderer/**', 'flows/*.json'])
      assert.ok(config.files.includes(needed), needed);
    for (const left of ['!dist/test/**', '!dist/bench/**', '!**/*.map']) assert.ok(config.files.includes(left), left);
    assert.ok(!config.files.some((f) => /^(src|test|bench|main|renderer|shared)\//.test(f)), 'no sources or tests');
  });

  it('targets AppImage and deb, dmg and nsis; Node-style fuses are off', () => {
    assert.deepEqual(config.linux.target, ['AppImage', 'deb']);
    assert.match(config.linux.maintainer, /<[^>]+@[^>]+>/);
    assert.ok(config.linux.category);
    assert.deepEqual(config.mac.target, ['dmg']);
    assert.deepEqual(config.win.target, ['nsis']);
    assert.equal(config.electronFuses['runAsNode'], false);
    assert.equal(config.electronFuses['enableNodeOptionsEnvironmentVariable'], false);
    assert.equal(config.electronFuses['enableNodeCliInspectArguments'], false);
  });

  it("package.json's main is the desktop main process", () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
      main: string;
      scripts: Record<string, string>;
    };
    assert.equal(pkg.main, 'dist/main/electron/main.js');
    assert.ok(config.files.includes('dist/main/**/*.js'));
    assert.ok(pkg.scripts['package'] && pkg.scripts['desktop:fetch'] && pkg.scripts['desktop:native']);
  });
});
