import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import type { ResponseEnvelope } from '../../../shared/protocol/protocol.js';
import { EngineHost, type EngineChild, type PortTarget } from '../../../main/electron/engineHost.js';
import { RestartPolicy } from '../../../main/electron/restartPolicy.js';
import { repoRoot, tempDir } from '../../helpers/paths.js';
import { waitFor } from '../../helpers/waitFor.js';

const WORKER = join(repoRoot, 'dist/test/main/electron/engineWorker.js');

/**
 * The engine process as a worker thread behind Electron's UtilityProcess shape: messages go in as
 * `{ data, ports }` (what ParentPort delivers), and a drained engine exits as the real one does.
 */
function workerChild(env: Record<string, string>, workers: Worker[]): EngineChild<MessagePort> {
  const worker = new Worker(WORKER, {
    workerData: { workspace: env['TOPICFLOW_WORKSPACE'], dataDir: env['TOPICFLOW_DATA_DIR'] },
    stderr: true,
  });
  workers.push(worker);
  worker.on('message', (m: { type?: string }) => {
    if (m.type === 'stopped') void worker.terminate();
  });
  return {
    postMessage: (message, transfer = []) => worker.postMessage({ data: message, ports: transfer }, transfer),
    on: (_event, listener) => worker.on('message', listener),
    once: (_event, listener) => worker.once('exit', listener),
    kill: () => {
      void worker.terminate();
      return true;
    },
    stderr: worker.stderr,
  };
}

/** A page: records the ports main posts to it. */
function page(): PortTarget<MessagePort> & { ports: { channel: string; port: MessagePort }[] } {
  const ports: { channel: string; port: MessagePort }[] = [];
  return {
    ports,
    isDestroyed: () => false,
    once: () => undefined,
    postMessage: (channel, _message, transfer = []) => {
      for (const port of transfer) ports.push({ channel, port });
    },
  };
}

/** One call over a port the host handed out. */
async function call(port: MessagePort, method: string, params: unknown = {}): Promise<ResponseEnvelope> {
  const id = Math.floor(Math.random() * 1e9);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${method}: no answer`)), 10_000);
    port.on('message', (text: string) => {
      const envelope = JSON.parse(text) as ResponseEnvelope;
      if (envelope.kind === 'response' && envelope.id === id) {
        clearTimeout(timer);
        resolve(envelope);
      }
    });
    port.postMessage(JSON.stringify({ kind: 'request', id, method, params }));
  });
}

describe('engine host (main/electron/engineHost.ts) with a worker thread as the utility process', () => {
  const tmp = tempDir('topicflow-engine-host-');
  const workers: Worker[] = [];
  after(async () => {
    await Promise.all(workers.map((w) => w.terminate()));
    tmp.cleanup();
  });

  it('hands a page a working port once the engine is ready, restarts a crashed engine, then gives up', async () => {
    const workspace = join(tmp.path, 'flows');
    mkdirSync(workspace, { recursive: true });
    const exits: number[] = [];
    const fatal: string[] = [];
    let secretsAsked = 0;
    const host = new EngineHost<MessagePort>({
      platform: { fork: (_entry, env) => workerChild(env, workers), channel: () => new MessageChannel() },
      entry: WORKER,
      workspace,
      dataDir: join(tmp.path, 'data'),
      secrets: () => {
        secretsAsked++;
        return {};
      },
      onDidExit: (code) => exits.push(code),
      onFatal: (message) => fatal.push(message),
      restartPolicy: new RestartPolicy({ maxRestarts: 2, baseDelayMs: 10 }),
    });
    const editor = page();
    host.start();
    host.connect(editor); // before ready: queued
    await waitFor('a port for the page', () => editor.ports.length === 1);
    assert.equal(editor.ports[0]?.channel, 'topicflow:engine-port');
    assert.equal((await call(editor.ports[0]!.port, 'engine.status')).ok, true);
    assert.ok(secretsAsked >= 1, 'the keychain values were sent when the engine became ready');

    // A crash: the host reports it, restarts the engine, and a new connection works.
    await workers.at(-1)!.terminate();
    await waitFor('the exit to be reported', () => exits.length === 1);
    await waitFor('a restarted engine', () => workers.length === 2);
    host.connect(editor);
    await waitFor('a second port', () => editor.ports.length === 2);
    assert.equal((await call(editor.ports[1]!.port, 'flows.list')).ok, true);

    // Past the budget (2 restarts here): no more restarts, onFatal says why.
    await workers.at(-1)!.terminate();
    await waitFor('the third engine', () => workers.length === 3);
    await waitFor('ready', async () => {
      host.connect(editor);
      return editor.ports.length >= 3;
    });
    await workers.at(-1)!.terminate();
    await waitFor('the fatal report', () => fatal.length === 1);
    assert.match(fatal[0] ?? '', /stopped unexpectedly 3 times within 60 s/);
    assert.equal(workers.length, 3, 'not restarted past the budget');

    // The user's "Try again": a fresh budget, a fresh engine; then a drained stop.
    host.retry();
    await waitFor('the engine after Try again', () => workers.length === 4);
    host.connect(editor);
    await waitFor('a port from it', () => editor.ports.length >= 4);
    await host.stop();
    assert.equal(exits.length, 3, 'a requested stop is not reported as a crash');
  });
});
