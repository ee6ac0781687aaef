import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EngineStatus, NodeStatus, OutboxStatus } from '../../../main/engine/flowEngine.js';
import type { ConnectionStatus } from '../../../main/engine/mqtt/connectionManager.js';
import { healthOf, urlWithoutCredentials } from '../../../main/server/health.js';
import { parseListenAddress } from '../../../main/server/listenAddress.js';

const NOW = 1_000_000;

function node(overrides: Partial<NodeStatus> = {}): NodeStatus {
  return {
    id: 'sink',
    type: 'http-post',
    state: 'running',
    error: undefined,
    counters: { in: 10, out: 10, errors: 0, dropped: 0 },
    rates: { in: 1, out: 1 },
    pending: 0,
    ...overrides,
  };
}

function outbox(overrides: Partial<OutboxStatus> = {}): OutboxStatus {
  return {
    depth: 0,
    bytes: 0,
    maxCount: 1000,
    maxBytes: 1_000_000,
    inFlight: 0,
    sent: 0,
    evicted: 0,
    retries: 0,
    failing: false,
    lastError: undefined,
    ...overrides,
  };
}

function connection(overrides: Partial<ConnectionStatus> = {}): ConnectionStatus {
  return {
    id: 'broker',
    state: 'connected',
    url: 'mqtt://127.0.0.1:1883',
    connects: 1,
    lastError: undefined,
    users: 1,
    subscriptions: 1,
    unacknowledged: 0,
    downSinceMono: undefined,
    ...overrides,
  };
}

function status(overrides: Partial<EngineStatus> = {}): EngineStatus {
  return {
    flow: 'gateway',
    revision: 'abc123',
    nodes: [node()],
    connections: [connection()],
    store: { state: 'ok', error: undefined, failingSinceMono: undefined },
    deadLetters: 0,
    ...overrides,
  };
}

const codes = (s: EngineStatus) => healthOf(s, { now: NOW }).reasons.map((r) => `${r.severity}:${r.code}`);

describe('healthOf', () => {
  it('is healthy with no reason when everything is fine', () => {
    assert.deepEqual(healthOf(status(), { now: NOW }), { status: 'healthy', reasons: [] });
    assert.equal(
      healthOf(status({ nodes: [node({ outbox: outbox({ depth: 10 }) })] }), { now: NOW }).status,
      'healthy',
    );
  });

  it('a failing store is unhealthy, saying since when and why', () => {
    const health = healthOf(
      status({
        store: { state: 'failing', error: 'SQLITE_FULL: database or disk is full', failingSinceMono: NOW - 12_000 },
      }),
      { now: NOW },
    );
    assert.equal(health.status, 'unhealthy');
    assert.equal(health.reasons.length, 1);
    assert.equal(health.reasons[0]?.code, 'store-failing');
    assert.match(health.reasons[0]?.detail ?? '', /failing for 12 s: SQLITE_FULL/);
  });

  it('a node that failed to start is unhealthy', () => {
    const health = healthOf(status({ nodes: [node({ state: 'failed', error: 'table is read-only' })] }), { now: NOW });
    assert.equal(health.status, 'unhealthy');
    assert.deepEqual(
      health.reasons.map((r) => [r.code, r.node]),
      [['node-failed', 'sink']],
    );
    assert.match(health.reasons[0]?.detail ?? '', /table is read-only/);
    // A node stopped while the engine drains is not a failure.
    assert.equal(healthOf(status({ nodes: [node({ state: 'stopped' })] }), { now: NOW }).status, 'healthy');
  });

  it('a connection that is down is degraded, then unhealthy after the threshold (60 s by default)', () => {
    for (const state of ['connecting', 'reconnecting', 'closed'] as const) {
      const down = status({
        connections: [connection({ state, downSinceMono: NOW - 5_000, lastError: 'connect ECONNREFUSED' })],
      });
      const health = healthOf(down, { now: NOW });
      assert.equal(health.status, 'degraded', state);
      assert.equal(health.reasons[0]?.code, 'disconnected');
      assert.equal(health.reasons[0]?.connection, 'broker');
      assert.match(health.reasons[0]?.detail ?? '', new RegExp(`is ${state}, down for 5 s: connect ECONNREFUSED`));
    }
    const long = status({ connections: [connection({ state: 'reconnecting', downSinceMono: NOW - 60_000 })] });
    assert.deepEqual(codes(long), ['unhealthy:disconnected']);
    assert.equal(healthOf(long, { now: NOW, disconnectedUnhealthyAfterMs: 120_000 }).status, 'degraded');
    // Without a since-when it just went down.
    assert.equal(
      healthOf(status({ connections: [connection({ state: 'reconnecting' })] }), { now: NOW }).status,
      'degraded',
    );
  });

  it('never shows the credentials of a broker URL', () => {
    const health = healthOf(
      status({ connections: [connection({ state: 'reconnecting', url: 'mqtts://gw:s3cret@broker.example:8883' })] }),
      { now: NOW },
    );
    assert.doesNotMatch(JSON.stringify(health), /s3cret|gw@/);
    assert.match(health.reasons[0]?.detail ?? '', /mqtts:\/\/broker\.example:8883/);
    assert.equal(urlWithoutCredentials('ws://u:p@h:9001/mqtt'), 'ws://h:9001/mqtt');
    assert.equal(urlWithoutCredentials('mqtt://127.0.0.1:1883'), 'mqtt://127.0.0.1:1883');
    assert.equal(urlWithoutCredentials('not a url://u:p@x'), 'not a url://u:p@x');
  });

  it('an outbox at 80 % of its count or bytes is degraded, a full one unhealthy', () => {
    const at = (o: Partial<OutboxStatus>) => codes(status({ nodes: [node({ outbox: outbox(o) })] }));
    assert.deepEqual(at({ depth: 799 }), []);
    assert.deepEqual(at({ depth: 800 }), ['degraded:outbox-filling']);
    assert.deepEqual(at({ bytes: 850_000 }), ['degraded:outbox-filling']);
    assert.deepEqual(at({ depth: 1000 }), ['unhealthy:outbox-full']);
    assert.deepEqual(at({ depth: 10, bytes: 1_000_000 }), ['unhealthy:outbox-full']);
    // A maximum of 0 bounds nothing (no division by zero).
    assert.deepEqual(at({ depth: 5, maxCount: 0, bytes: 5, maxBytes: 0 }), []);
    const detail = healthOf(status({ nodes: [node({ outbox: outbox({ depth: 900 }) })] }), { now: NOW }).reasons[0];
    assert.match(detail?.detail ?? '', /90 % full \(900\/1000 messages/);
    assert.equal(detail?.node, 'sink');
    const custom = healthOf(status({ nodes: [node({ outbox: outbox({ depth: 500 }) })] }), {
      now: NOW,
      outboxDegradedRatio: 0.5,
    });
    assert.equal(custom.status, 'degraded');
  });

  it('an outbox whose last attempt failed is degraded, with the error', () => {
    const health = healthOf(
      status({ nodes: [node({ outbox: outbox({ depth: 3, failing: true, lastError: 'HTTP 503' }) })] }),
      { now: NOW },
    );
    assert.equal(health.status, 'degraded');
    assert.equal(health.reasons[0]?.code, 'outbox-failing');
    assert.match(health.reasons[0]?.detail ?? '', /HTTP 503/);
  });

  it('the worst reason decides, and every reason is listed worst first', () => {
    const health = healthOf(
      status({
        nodes: [
          node({ id: 'post', outbox: outbox({ depth: 900, failing: true, lastError: 'ECONNREFUSED' }) }),
          node({ id: 'rows', type: 'sqlite-sink', state: 'failed', error: 'boom' }),
        ],
        connections: [connection({ state: 'reconnecting', downSinceMono: NOW - 1000 })],
        store: { state: 'failing', error: 'SQLITE_READONLY', failingSinceMono: NOW },
      }),
      { now: NOW },
    );
    assert.equal(health.status, 'unhealthy');
    assert.deepEqual(
      health.reasons.map((r) => `${r.severity}:${r.code}`),
      [
        'unhealthy:store-failing',
        'unhealthy:node-failed',
        'degraded:disconnected',
        'degraded:outbox-filling',
        'degraded:outbox-failing',
      ],
    );
  });
});

describe('parseListenAddress (--http)', () => {
  it('takes PORT, HOST:PORT and [IPv6]:PORT, and tells loopback from public', () => {
    assert.deepEqual(parseListenAddress('9464'), { host: '127.0.0.1', port: 9464, loopback: true });
    assert.deepEqual(parseListenAddress('127.0.0.1:0'), { host: '127.0.0.1', port: 0, loopback: true });
    assert.deepEqual(parseListenAddress('localhost:80'), { host: 'localhost', port: 80, loopback: true });
    assert.deepEqual(parseListenAddress('[::1]:9464'), { host: '::1', port: 9464, loopback: true });
    assert.deepEqual(parseListenAddress('0.0.0.0:9464'), { host: '0.0.0.0', port: 9464, loopback: false });
    assert.deepEqual(parseListenAddress('[::]:9464'), { host: '::', port: 9464, loopback: false });
    assert.deepEqual(parseListenAddress('192.168.1.5:9464'), { host: '192.168.1.5', port: 9464, loopback: false });
  });

  it('says what is wrong with anything else', () => {
    assert.match(parseListenAddress('') as string, /expected PORT or HOST:PORT/);
    assert.match(parseListenAddress('127.0.0.1') as string, /expected PORT or HOST:PORT/);
    assert.match(parseListenAddress('::1:9464') as string, /expected PORT or HOST:PORT/);
    assert.match(parseListenAddress('70000') as string, /not between 0 and 65535/);
  });
});
