import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseRequest, type EventName, type ProtocolEvents } from '../../../shared/protocol/protocol.js';
import { FlowEngine } from '../../../main/engine/flowEngine.js';
import { EngineService, ProtocolFailure, quoteIdentifier } from '../../../main/server/engineService.js';
import { tempDir } from '../../helpers/paths.js';
import { waitFor } from '../../helpers/waitFor.js';

describe('EngineService', () => {
  const tmp = tempDir();
  const workspace = join(tmp.path, 'flows');
  let engine: FlowEngine;
  let service: EngineService;
  const received: { event: EventName; data: unknown; at: number }[] = [];

  before(() => {
    mkdirSync(workspace);
    engine = FlowEngine.open({ dataDir: join(tmp.path, 'data') });
    service = new EngineService(engine, { workspace, lookup: () => undefined, debugPerSecond: 20 });
    service.listen({
      onDidEmit<E extends EventName>(event: E, data: ProtocolEvents[E]) {
        received.push({ event, data, at: performance.now() });
      },
    });
  });
  after(async () => {
    service.dispose();
    await engine.stop();
    tmp.cleanup();
  });

  it('batches status events to at most 4 a second', async () => {
    const start = received.length;
    const began = performance.now();
    const timer = setInterval(() => engine.events.emit('status', engine.status()), 10);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    clearInterval(timer);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const statuses = received.slice(start).filter((r) => r.event === 'status');
    assert.ok(statuses.length >= 3 && statuses.length <= 6, `${statuses.length} status events`);
    for (let i = 1; i < statuses.length; i++) {
      const gap = (statuses[i]?.at ?? 0) - (statuses[i - 1]?.at ?? 0);
      assert.ok(gap >= 240, `status events ${gap.toFixed(0)} ms apart`);
    }
    assert.ok((statuses[0]?.at ?? 0) - began < 300);
  });

  it('passes debug messages on at a bounded rate and counts the rest', async () => {
    const start = received.length;
    for (let i = 0; i < 500; i++) {
      engine.events.emit('debug', { node: 'dbg', at: Date.now(), topic: 't', preview: String(i), truncated: false });
    }
    await waitFor('a debug event', () => received.slice(start).some((r) => r.event === 'debug'), 2000);
    const debug = received.slice(start).filter((r) => r.event === 'debug');
    const data = debug.map((d) => d.data as ProtocolEvents['debug']);
    assert.equal(
      data.reduce((n, d) => n + d.messages.length, 0),
      20,
    );
    assert.equal(
      data.reduce((n, d) => n + d.dropped, 0),
      480,
    );
  });

  it('keeps flow names inside the workspace', async () => {
    writeFileSync(join(tmp.path, 'outside.json'), '{}');
    for (const name of [
      '../outside.json',
      '..',
      '.json/..',
      'a/../b.json',
      'C:\\x.json',
      '%2e%2e.json',
      '',
      'x.json\0',
    ]) {
      await assert.rejects(service.handle('flows.open', { name }), (error: unknown) => {
        assert.ok(error instanceof ProtocolFailure);
        assert.equal(error.code, 'invalid-params');
        return true;
      });
    }
    await assert.rejects(service.handle('flows.save', { name: '../x.json', document: {} }), ProtocolFailure);
    assert.equal(existsSync(join(tmp.path, 'x.json')), false);
  });

  it('saves a work-in-progress flow and says what is wrong with it', async () => {
    const document = { format: 'topicflow/flow@1', name: 'wip', nodes: [{ id: 'x', type: 'mqtt-in', config: {} }] };
    const saved = await service.handle('flows.save', { name: 'wip.json', document });
    assert.equal(saved.validation.ok, false);
    assert.ok(saved.validation.problems.some((p) => p.pointer.startsWith('/nodes/0/config')));
    const opened = await service.handle('flows.open', { name: 'wip.json' });
    assert.deepEqual(opened.document, document);
    const response = await service.respond(5, 'engine.deploy', { document });
    assert.equal(response.ok, false);
    assert.equal(!response.ok && response.error.code, 'invalid-flow');
    assert.match(!response.ok ? response.error.message : '', /nothing deployed: \/nodes\/0\/config/);
  });

  it('reads store tables by their names in sqlite_master only', async () => {
    engine.store.db.exec('CREATE TABLE "odd ""name""" (a INTEGER, b BLOB)');
    engine.store.db.prepare('INSERT INTO "odd ""name""" VALUES (?, ?)').run(1, Buffer.from('hi'));
    const tables = await service.handle('store.tables', {});
    const odd = tables.tables.find((t) => t.name === 'odd "name"');
    assert.deepEqual(odd, { name: 'odd "name"', columns: ['a', 'b'], rows: 1 });
    const rows = await service.handle('store.rows', { table: 'odd "name"' });
    assert.deepEqual(rows.rows, [[1, { base64: Buffer.from('hi').toString('base64') }]]);
    await assert.rejects(service.handle('store.rows', { table: 'sqlite_master' }), /no table/);
    await assert.rejects(service.handle('store.rows', { table: 'x; DROP TABLE tf_outbox' }), /no table/);
    assert.equal(quoteIdentifier('a"b'), '"a""b"');
  });

  it('exports the gateway copy of a flow, refusing a literal secret unless told to strip it', async () => {
    const flow = {
      format: 'topicflow/flow@1',
      name: 'export',
      connections: [{ id: 'broker', url: 'mqtt://127.0.0.1:1883', password: 'literal-pw' }],
      nodes: [{ id: 'in', type: 'mqtt-in', config: { connection: 'broker', topic: 't' } }],
      edges: [],
      layout: { nodes: { in: { x: 0, y: 0 } } },
    };
    const refused = await service.respond(1, 'flows.export', { document: flow });
    assert.equal(refused.ok, false);
    if (!refused.ok) {
      assert.equal(refused.error.code, 'invalid-flow');
      assert.equal(refused.error.problems?.[0]?.pointer, '/connections/0/password');
      assert.ok(!JSON.stringify(refused).includes('literal-pw'));
    }
    const stripped = await service.handle('flows.export', { document: flow, stripSecrets: true });
    const document = stripped.document as typeof flow;
    assert.equal(document.connections[0]?.password, '${env:TOPICFLOW_BROKER_PASSWORD}');
    assert.equal('layout' in document, false);
    assert.deepEqual(stripped.requiredEnv, ['TOPICFLOW_BROKER_PASSWORD']);
    assert.ok(stripped.warnings.some((w) => w.pointer === '/connections/0/password'));
    const keychain = await service.handle('flows.export', {
      document: { ...flow, connections: [{ ...flow.connections[0], password: '${secret:PW}' }] },
      keepLayout: true,
    });
    assert.equal((keychain.document as typeof flow).connections[0]?.password, '${env:PW}');
    assert.ok('layout' in (keychain.document as typeof flow));
    await assert.rejects(service.handle('flows.export', { document: flow, stripSecrets: 'yes' as never }), {
      code: 'invalid-params',
    });
  });

  it('previews an expression against the last message a node received, and against a sample', async () => {
    const document = {
      format: 'topicflow/flow@1',
      name: 'preview',
      connections: [],
      nodes: [
        { id: 'sim', type: 'simulator', config: { mode: 'emit', devices: 1, intervalMs: 50, seed: 7, maxTicks: 5 } },
        { id: 'tf', type: 'transform', config: { expression: 'payload' } },
      ],
      edges: [{ id: 'e1', from: { node: 'sim', port: 'out' }, to: { node: 'tf', port: 'in' } }],
    };
    assert.deepEqual(await service.handle('nodes.lastMessage', { node: 'tf' }), { last: null });
    await service.handle('engine.deploy', { document });
    await waitFor('a message at tf', () => engine.lastInput('tf') !== undefined, 5000);
    const { last } = await service.handle('nodes.lastMessage', { node: 'tf' });
    assert.ok(last && !last.truncated);
    assert.match(last.message.topic, /^fleet\//);
    // The engine answers with the message it keeps, serialized: the same payload the node saw.
    assert.deepEqual(last.message.payload, engine.lastInput('tf')?.payload);

    const fromNode = await service.handle('expression.preview', { expression: '$topic', node: 'tf' });
    assert.equal(fromNode.ok, true);
    assert.equal(fromNode.ok && typeof fromNode.result === 'string' && JSON.parse(fromNode.result), last.message.topic);

    const sample = { topic: 'a/b', payload: { t: 21.5, unit: 'C' }, params: { device: 'd1' } };
    const ok = await service.handle('expression.preview', {
      expression: '{ "device": $params.device, "f": t * 9 / 5 + 32 }',
      message: sample,
    });
    assert.deepEqual(ok.ok && JSON.parse(ok.result ?? 'null'), { device: 'd1', f: 70.7 });
    const falsy = await service.handle('expression.preview', { expression: 't > 30', message: sample });
    assert.equal(falsy.ok && falsy.truthy, false);

    const syntax = await service.handle('expression.preview', { expression: '{ "a": }', message: sample });
    assert.equal(syntax.ok, false);
    assert.ok(!syntax.ok && syntax.error.code === 'S0211' && syntax.error.position === 8, JSON.stringify(syntax));
    // Bounded like the transform node: a runaway expression stops at the time or sequence limit.
    const runaway = await service.handle('expression.preview', {
      expression: '($f := function($n) { $n = 0 ? 0 : $f($n - 1) + 1 }; $f(100000))',
      message: sample,
    });
    assert.equal(runaway.ok, false);
    await assert.rejects(
      service.handle('expression.preview', { expression: '1', message: { payload: 1 } as never }),
      (error: unknown) => error instanceof ProtocolFailure && error.code === 'invalid-params',
    );
    await service.handle('engine.stop', {});
    assert.deepEqual(await service.handle('nodes.lastMessage', { node: 'tf' }), { last: null });
  });

  it('checks envelopes from the network', () => {
    assert.equal(parseRequest({ kind: 'request', id: 1, method: 'catalog.get', params: {} }).ok, true);
    assert.equal(parseRequest({ kind: 'request', id: 1, method: 'catalog.get' }).ok, true);
    const cases: [unknown, string][] = [
      [null, 'bad-request'],
      [[], 'bad-request'],
      [{ kind: 'response', id: 1, method: 'catalog.get' }, 'bad-request'],
      [{ kind: 'request', id: 2 ** 60, method: 'catalog.get' }, 'bad-request'],
      [{ kind: 'request', id: '1', method: 'catalog.get' }, 'bad-request'],
      [{ kind: 'request', id: 1, method: 'toString' }, 'unknown-method'],
      [{ kind: 'request', id: 1, method: '__proto__' }, 'unknown-method'],
      [{ kind: 'request', id: 1, method: 'flows.open', params: 'x' }, 'invalid-params'],
      [{ kind: 'request', id: 1, method: 'flows.open', params: null }, 'invalid-params'],
    ];
    for (const [value, code] of cases) {
      const parsed = parseRequest(value);
      assert.equal(parsed.ok ? 'ok' : parsed.error.code, code, JSON.stringify(value));
    }
  });
});
