import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FlowDocument } from '../../shared/flow/flowDocument.js';
import { validateFlowDocument } from '../../shared/flow/validateFlow.js';
import { STORE_FILE } from '../../main/engine/store/store.js';
import { repoRoot } from '../helpers/paths.js';

export { brokerFixture } from '../helpers/brokerFixture.js';

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
