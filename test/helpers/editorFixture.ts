import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before } from 'node:test';
import type { MqttClient } from 'mqtt';
import { chromium, type Browser } from 'playwright-core';
import { CHROMIUM_LAUNCH } from './chromium.js';
import { startServe, type RunningCli } from './cli.js';
import { testClient } from './engineHarness.js';
import { startMosquitto, type Mosquitto } from './mosquitto.js';
import { tempDir } from './paths.js';

/** What a browser e2e test drives: filled in by the `before` hook useEditorFixture registers. */
export interface EditorFixture {
  /** The test's folder: the workspace is `dir/flows`, the engine's data `dir/data`. */
  readonly dir: string;
  readonly broker: Mosquitto;
  /** An mqtt.js client on the broker, for publishing what the page should see. */
  readonly publisher: MqttClient;
  readonly cli: RunningCli;
  readonly browser: Browser;
  /** The editor's URL printed by `topicflow serve`. */
  readonly url: string;
}

/**
 * Registers, in the calling `describe`, hooks that start a real Mosquitto, a publisher on it,
 * `topicflow serve` (without the explorer's default broker: a test never binds 1883) and Debian's
 * Chromium, and stop them all afterwards. Read the fields inside the tests, not before.
 */
export function useEditorFixture(prefix: string, artifacts: string): EditorFixture {
  const tmp = tempDir(prefix);
  const fixture = { dir: tmp.path } as { -readonly [K in keyof EditorFixture]: EditorFixture[K] };
  before(async () => {
    mkdirSync(artifacts, { recursive: true });
    fixture.broker = await startMosquitto();
    fixture.publisher = await testClient(fixture.broker.url);
    const workspace = join(tmp.path, 'flows');
    mkdirSync(workspace);
    const served = await startServe(workspace, join(tmp.path, 'data'));
    fixture.cli = served.cli;
    fixture.url = served.url;
    fixture.browser = await chromium.launch({ ...CHROMIUM_LAUNCH });
  });
  after(async () => {
    await fixture.browser?.close();
    await fixture.cli?.stop();
    await fixture.publisher?.endAsync();
    await fixture.broker?.stop();
    tmp.cleanup();
  });
  return fixture;
}
