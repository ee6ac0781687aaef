import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import type { EventEnvelope, ResponseEnvelope } from '../../../shared/protocol/protocol.js';
import { repoRoot, tempDir } from '../../helpers/paths.js';
import { waitFor } from '../../helpers/waitFor.js';

const WORKER = join(repoRoot, 'dist/test/main/electron/engineWorker.js');
const SECRET = 'TF_TEST_BROKER_PASSWORD_7c1e';
const FLOW = {
  format: 'topicflow/flow@1',
  name: 'secretive',
  connections: [{ id: 'broker', url: 'mqtt://127.0.0.1:1', password: `\${secret:${SECRET}}` }],
  nodes: [],
  edges: [],
};

/** One editor connection to the engine process: a port, its envelopes, numbered calls. */
function editor(port: MessagePort) {
  const envelopes: (ResponseEnvelope | EventEnvelope)[] = [];
  let closed = false;
  port.on('message', (text: string) => envelopes.push(JSON.parse(text) as ResponseEnvelope | EventEnvelope));
  port.on('close', () => (closed = true));
  let nextId = 1;
  return {
    envelopes,
    closed: () => closed,
    async call(method: string, params: unknown = {}): Promise<ResponseEnvelope> {
      const id = nextId++;
      port.postMessage(JSON.stringify({ kind: 'request', id, method, params }));
      return waitFor(`${method} (#${id}) answered`, () =>
        envelopes.find((e): e is ResponseEnvelope => e.kind === 'response' && e.id === id),
      );
    },
  };
}

describe('desktop engine process (main/electron/engineProcess.ts) in a real worker thread', () => {
  const tmp = tempDir('topicflow-engine-process-');
  const workspace = join(tmp.path, 'flows');
  const control: unknown[] = [];
  let worker: Worker;

  /** Posts a control message the way Electron's ParentPort delivers it: `{ data, ports }`. */
  const send = (data: unknown, ports: MessagePort[] = []): void => worker.postMessage({ data, ports }, ports);
  const connect = (): ReturnType<typeof editor> => {
    const { port1, port2 } = new MessageChannel();
    send({ type: 'connect' }, [port1]);
    return editor(port2);
  };

  before(async () => {
    mkdirSync(workspace);
    writeFileSync(join(workspace, 'secretive.json'), JSON.stringify(FLOW));
    worker = new Worker(WORKER, { workerData: { workspace, dataDir: join(tmp.path, 'data') } });
    worker.on('message', (message: unknown) => control.push(message));
    await waitFor('the engine process to say ready', () =>
      control.some((m) => (m as { type?: string }).type === 'ready'),
    );
  });
  after(async () => {
    await worker.terminate();
    tmp.cleanup();
  });

  it('serves the protocol over a port it is handed, events included', async () => {
    const page = connect();
    const list = await page.call('flows.list');
    assert.ok(list.ok);
    assert.match(JSON.stringify(list.result), /"name":"secretive\.json"/);
    const bad = await page.call('flows.open', { name: '/etc/passwd' });
    assert.equal(!bad.ok && bad.error.code, 'invalid-params');
    const empty = { ...FLOW, name: 'empty', connections: [] };
    const deployed = await page.call('engine.deploy', { document: empty });
    assert.ok(deployed.ok, JSON.stringify(deployed));
    await waitFor('a status event', () => page.envelopes.some((e) => e.kind === 'event' && e.event === 'status'));
    // The topic explorer is served by the desktop engine too (started without its default broker).
    const explorer = await page.call('explorer.connections.list');
    assert.ok(explorer.ok, JSON.stringify(explorer));
    assert.deepEqual(explorer.result, { connections: [] });
  });

  it('resolves ${secret:NAME} from the values main sends, and only from them', async () => {
    const page = connect();
    const problems = async (): Promise<string> => {
      const result = await page.call('flows.validate', { document: FLOW });
      assert.ok(result.ok);
      return JSON.stringify(result.result);
    };
    assert.match(await problems(), new RegExp(`\\$\\{secret:${SECRET}\\} is not set`));
    send({ type: 'secrets', values: { [SECRET]: 'hunter2', 'bad name': 'x' } });
    await waitFor('the secret to resolve', async () => !(await problems()).includes('is not set'));
    // Nothing the editor receives carries the value.
    assert.doesNotMatch(JSON.stringify(page.envelopes), /hunter2/);
    send({ type: 'secrets', values: {} });
    await waitFor('the secret to be gone again', async () => (await problems()).includes('is not set'));
  });

  it('serves several editor connections (a reloaded page gets a new port) and drops closed ones', async () => {
    const first = connect();
    const second = connect();
    assert.ok((await first.call('engine.status')).ok);
    assert.ok((await second.call('engine.status')).ok);
  });

  it('drains on stop and closes the ports', async () => {
    const page = connect();
    assert.ok((await page.call('engine.status')).ok);
    send({ type: 'stop' });
    await waitFor('stopped', () => control.some((m) => (m as { type?: string }).type === 'stopped'), 15_000);
    await waitFor('the port to close', () => page.closed());
  });
});
