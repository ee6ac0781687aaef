/**
 * The editor's ProtocolClient (renderer/protocolClient.ts) over MessagePorts, against the desktop
 * engine process running in a real worker thread (test/main/electron/engineWorker.ts): calls,
 * events, and reconnection when the engine goes away and comes back ('closed' → 'open').
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import {
  ProtocolCallError,
  ProtocolClient,
  type ClientPort,
  type ConnectionState,
  type PortSource,
} from '../../../renderer/protocolClient.js';

const repoRoot = ((): string => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
})();
const WORKER = join(repoRoot, 'dist/test/main/electron/engineWorker.js');

async function until<T>(what: string, check: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The engine process in a worker, as main's EngineHost runs it in a utility process. */
function startEngine(workspace: string, dataDir: string): { worker: Worker; ready: Promise<void> } {
  const worker = new Worker(WORKER, { workerData: { workspace, dataDir } });
  const ready = new Promise<void>((resolve) =>
    worker.on('message', (m: { type?: string }) => {
      if (m.type === 'ready') resolve();
    }),
  );
  return { worker, ready };
}

describe('renderer ProtocolClient over a MessagePort (the desktop transport)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'topicflow-client-port-'));
  const workspace = join(dir, 'flows');
  mkdirSync(workspace);
  writeFileSync(
    join(workspace, 'one.json'),
    JSON.stringify({ format: 'topicflow/flow@1', name: 'one', connections: [], nodes: [], edges: [] }),
  );
  let engine = startEngine(workspace, join(dir, 'data'));
  let requests = 0;
  const disconnectListeners = new Set<() => void>();
  // What the preload and main do together: each request is a new channel, one end to the engine.
  const source: PortSource = {
    async request() {
      requests++;
      await engine.ready;
      const { port1, port2 } = new MessageChannel();
      engine.worker.postMessage({ data: { type: 'connect' }, ports: [port1] }, [port1]);
      const port: ClientPort = port2;
      return port;
    },
    onDidDisconnect(listener) {
      disconnectListeners.add(listener);
      return () => disconnectListeners.delete(listener);
    },
  };
  const client = ProtocolClient.overPorts(source);
  const states: ConnectionState[] = [];
  client.onState((state) => states.push(state));

  after(async () => {
    client.dispose();
    await engine.worker.terminate();
    rmSync(dir, { recursive: true, force: true });
  });

  it('connects, calls and receives events', async () => {
    client.connect();
    await until('open', () => client.state === 'open');
    assert.deepEqual(states, ['connecting', 'open']);
    const { flows } = await client.call('flows.list', {});
    assert.deepEqual(
      flows.map((f) => f.name),
      ['one.json'],
    );
    const statuses: unknown[] = [];
    const off = client.on('status', (status) => statuses.push(status));
    const outcome = await client.call('engine.deploy', {
      document: { format: 'topicflow/flow@1', name: 'one', connections: [], nodes: [], edges: [] },
    });
    assert.equal(outcome.flow, 'one');
    await until('a status event', () => statuses.length > 0);
    off();
    await assert.rejects(client.call('flows.open', { name: '../x.json' }), (error: unknown) => {
      assert.ok(error instanceof ProtocolCallError);
      assert.equal(error.code, 'invalid-params');
      return true;
    });
  });

  it('goes closed when the engine dies and open again on the restarted engine', async () => {
    const before = requests;
    await engine.worker.terminate();
    await until('closed', () => client.state === 'closed');
    await assert.rejects(client.call('engine.status', {}), /not connected/);
    engine = startEngine(workspace, join(dir, 'data'));
    await until('open again', () => client.state === 'open', 15_000);
    assert.ok(requests > before, 'the client asked for a new port');
    assert.equal((await client.call('engine.status', {})).running, false);
  });

  it('reconnects when main reports the engine down (the preload relays it)', async () => {
    const before = requests;
    for (const listener of disconnectListeners) listener();
    assert.equal(client.state, 'closed');
    await until('open again', () => client.state === 'open', 15_000);
    assert.equal(requests, before + 1);
    assert.ok((await client.call('flows.list', {})).flows.length === 1);
  });
});
