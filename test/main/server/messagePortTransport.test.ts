import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import type { EventEnvelope, ResponseEnvelope } from '../../../shared/protocol/protocol.js';
import { FlowEngine } from '../../../main/engine/flowEngine.js';
import { startEditorServer, type EditorServer } from '../../../main/server/editorServer.js';
import { EngineService } from '../../../main/server/engineService.js';
import { attachMessagePort, type PortConnection } from '../../../main/server/messagePortTransport.js';
import { MAX_INCOMING_BYTES } from '../../../main/server/wsTransport.js';
import { connectProtocol, type ProtocolClient } from '../../helpers/protocolClient.js';
import { tempDir } from '../../helpers/paths.js';
import { waitFor } from '../../helpers/waitFor.js';

const EMPTY_FLOW = { format: 'topicflow/flow@1', name: 'empty', connections: [], nodes: [], edges: [] };

/** The editor's end of a MessageChannel, recording everything the engine posts. */
function portPeer(port: MessagePort) {
  const received: unknown[] = [];
  port.on('message', (message: unknown) => received.push(message));
  const texts = () => received.filter((m): m is string => typeof m === 'string');
  const envelopes = () => texts().map((t) => JSON.parse(t) as ResponseEnvelope | EventEnvelope);
  return {
    received,
    texts,
    envelopes,
    response: (id: number) =>
      waitFor(`response ${id} on the port`, () =>
        envelopes().find((e): e is ResponseEnvelope => e.kind === 'response' && e.id === id),
      ),
  };
}

describe('MessagePort transport (main/server/messagePortTransport.ts)', () => {
  const tmp = tempDir('topicflow-port-');
  const workspace = join(tmp.path, 'flows');
  let engine: FlowEngine;
  let service: EngineService;
  let server: EditorServer;
  let ws: ProtocolClient;
  let channel: MessageChannel;
  let connection: PortConnection;
  let peer: ReturnType<typeof portPeer>;

  before(async () => {
    mkdirSync(workspace);
    writeFileSync(join(workspace, 'empty.json'), JSON.stringify(EMPTY_FLOW));
    engine = FlowEngine.open({ dataDir: join(tmp.path, 'data') });
    service = new EngineService(engine, { workspace, lookup: () => undefined });
    server = await startEditorServer(service, { host: '127.0.0.1', port: 0, rendererDir: join(tmp.path, 'none') });
    ws = await connectProtocol(`${server.url.replace('http', 'ws')}api`);
    channel = new MessageChannel();
    connection = attachMessagePort(service, channel.port1);
    peer = portPeer(channel.port2);
  });
  after(async () => {
    connection.close();
    channel.port2.close();
    await ws.close();
    await server.close();
    service.dispose();
    await engine.stop();
    tmp.cleanup();
  });

  it('answers a call with the very envelope the WebSocket transport sends', async () => {
    for (const [id, method, params] of [
      [1, 'flows.list', {}],
      [2, 'flows.open', { name: 'empty.json' }],
      [3, 'flows.open', { name: '../escape.json' }],
      [4, 'catalog.get', {}],
    ] as const) {
      const text = JSON.stringify({ kind: 'request', id, method, params });
      channel.port2.postMessage(text);
      ws.sendRaw(text);
      const overPort = await peer.response(id);
      const overSocket = await ws.waitForResponse(id);
      // flows.list carries modification times: identical as both read the same file.
      assert.deepEqual(overPort, overSocket, `${method}: the two transports answered differently`);
    }
    const list = await peer.response(1);
    assert.ok(list.ok);
    assert.match(JSON.stringify(list.result), /^\{"flows":\[\{"name":"empty\.json",/);
    const escape = await peer.response(3);
    assert.equal(escape.ok, false);
    assert.equal(!escape.ok && escape.error.code, 'invalid-params');
  });

  it('emits events to the port as to the socket: deploy gives `deployed` then `status`', async () => {
    const before = peer.envelopes().length;
    channel.port2.postMessage(
      JSON.stringify({ kind: 'request', id: 10, method: 'engine.deploy', params: { document: EMPTY_FLOW } }),
    );
    const deployed = await peer.response(10);
    assert.ok(deployed.ok, JSON.stringify(deployed));
    const event = (name: string) =>
      peer
        .envelopes()
        .slice(before)
        .find((e): e is EventEnvelope => e.kind === 'event' && e.event === name);
    const portDeployed = await waitFor('a deployed event on the port', () => event('deployed'));
    await waitFor('a status event on the port', () => event('status'));
    const socketDeployed = await waitFor('the deployed event on the socket', () =>
      ws.events.find((e) => e.envelope.event === 'deployed'),
    );
    assert.deepEqual(portDeployed, socketDeployed.envelope);
    assert.equal((portDeployed.data as { flow: string }).flow, 'empty');
  });

  it('answers malformed requests with a bad-request error, and keeps serving', async () => {
    const count = () => peer.envelopes().filter((e) => e.kind === 'response' && e.id === -1).length;
    const start = count();
    channel.port2.postMessage('{not json');
    channel.port2.postMessage({ kind: 'request', id: 20, method: 'flows.list', params: {} });
    channel.port2.postMessage('x'.repeat(MAX_INCOMING_BYTES + 1));
    await waitFor('three refusals', () => count() === start + 3);
    const refusals = peer
      .envelopes()
      .filter((e): e is ResponseEnvelope => e.kind === 'response' && e.id === -1)
      .slice(start);
    for (const r of refusals) assert.equal(!r.ok && r.error.code, 'bad-request');
    assert.match(JSON.stringify(refusals), /not JSON/);
    assert.match(JSON.stringify(refusals), /only JSON text/);
    assert.match(JSON.stringify(refusals), /larger than/);

    channel.port2.postMessage(JSON.stringify({ kind: 'request', id: 21, method: 'no.such', params: {} }));
    const unknown = await peer.response(21);
    assert.equal(unknown.ok, false);
    assert.match(JSON.stringify(unknown), /no\.such/);

    channel.port2.postMessage(JSON.stringify({ kind: 'request', id: 22, method: 'engine.status', params: {} }));
    assert.equal((await peer.response(22)).ok, true);
  });

  it('detaches from the service when the editor closes its end', async () => {
    const extra = new MessageChannel();
    const attached = attachMessagePort(service, extra.port1);
    extra.port2.close();
    await waitFor('the transport to see the port close', () => attached.closed());
  });
});
