import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FlowDocument } from '../../shared/flow/flowDocument.js';
import { validateFlowDocument } from '../../shared/flow/validateFlow.js';
import { STORE_FILE } from '../../main/engine/store/store.js';
import { after, before } from 'node:test';
import type { MqttClient } from 'mqtt';
import { testClient } from '../helpers/engineHarness.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { repoRoot, tempDir } from '../helpers/paths.js';

/** An example flow from flows/, validated, with config defaults filled in. */
export function exampleFlow(name: string): FlowDocument {
  const result = validateFlowDocument(JSON.parse(readFileSync(join(repoRoot, 'flows', name), 'utf8')));
  if (!result.ok) throw new Error(`flows/${name} is invalid`);
  return result.flow;
}

/** Opens the store a `topicflow run --data-dir` wrote, read-only. */
export function openStore(dataDir: string): Database.Database {
  return new Database(join(dataDir, STORE_FILE), { readonly: true, fileMustExist: true });
}

export interface DeadLetterRow {
  node: string;
  reason: string;
  topic: string;
  payload: Buffer;
}

/** A Mosquitto, a test client on it and a temp dir for the calling suite (registers before/after). */
export function brokerFixture(): { readonly broker: Mosquitto; readonly client: MqttClient; readonly dir: string } {
  const tmp = tempDir();
  let broker: Mosquitto | undefined;
  let client: MqttClient | undefined;
  before(async () => {
    broker = await startMosquitto();
    client = await testClient(broker.url);
  });
  after(async () => {
    await client?.endAsync();
    await broker?.stop();
    tmp.cleanup();
  });
  return {
    get broker() {
      return broker as Mosquitto;
    },
    get client() {
      return client as MqttClient;
    },
    dir: tmp.path,
  };
}
