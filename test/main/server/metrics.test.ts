import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { register as globalRegistry } from 'prom-client';
import type { EngineStatus } from '../../../main/engine/flowEngine.js';
import { LatencyHistogram } from '../../../main/engine/runtime/latencyHistogram.js';
import { createMetrics } from '../../../main/server/metrics.js';
import { startObservabilityServer, type ObservabilityServer } from '../../../main/server/observabilityServer.js';
import { parseExposition } from './prometheusText.js';

function baseStatus(): EngineStatus {
  const latency = new LatencyHistogram();
  for (const ms of [0.4, 3, 3, 40, 120_000]) latency.observe(ms);
  return {
    flow: 'gateway "edge"',
    revision: 'abc123',
    nodes: [
      {
        id: 'in',
        type: 'mqtt-in',
        state: 'running',
        error: undefined,
        counters: { in: 0, out: 42, errors: 1, dropped: 2 },
        rates: { in: 0, out: 4 },
        pending: 0,
      },
      {
        id: 'post',
        type: 'http-post',
        state: 'running',
        error: undefined,
        counters: { in: 41, out: 0, errors: 0, dropped: 0 },
        rates: { in: 4, out: 0 },
        pending: 3,
        outbox: {
          depth: 7,
          bytes: 700,
          maxCount: 10,
          maxBytes: 100_000,
          inFlight: 1,
          sent: 30,
          evicted: 4,
          retries: 5,
          failing: true,
          lastError: 'HTTP 503',
        },
      },
    ],
    connections: [
      {
        id: 'broker',
        state: 'connected',
        url: 'mqtts://gw:s3cret@broker.example:8883',
        connects: 2,
        lastError: undefined,
        users: 1,
        subscriptions: 1,
        unacknowledged: 5,
        downSinceMono: undefined,
        ackLatency: latency.snapshot(),
      },
    ],
    store: { state: 'ok', error: undefined, failingSinceMono: undefined },
    deadLetters: 9,
  };
}

describe('createMetrics (from a hand-built status)', () => {
  it('renders per node, per connection, outbox, dead letter, store and health metrics', async () => {
    const status = baseStatus();
    let reads = 0;
    const metrics = createMetrics(
      {
        status: () => {
          reads++;
          return status;
        },
      },
      { processMetrics: false },
    );
    assert.equal(metrics.contentType, 'text/plain; version=0.0.4; charset=utf-8');
    const text = await metrics.render();
    assert.equal(reads, 1, 'one status read per scrape');
    assert.doesNotMatch(text, /s3cret/, 'no credentials in labels');
    const m = parseExposition(text);
    const conn = 'connection="broker",url="mqtts://broker.example:8883"';
    const expected: Record<string, number> = {
      'topicflow_flow_info{flow="gateway \\"edge\\"",revision="abc123"}': 1,
      'topicflow_node_messages_out_total{node="in",type="mqtt-in"}': 42,
      'topicflow_node_messages_in_total{node="post",type="http-post"}': 41,
      'topicflow_node_errors_total{node="in",type="mqtt-in"}': 1,
      'topicflow_node_dropped_total{node="in",type="mqtt-in"}': 2,
      'topicflow_node_pending{node="post",type="http-post"}': 3,
      'topicflow_node_up{node="post",type="http-post"}': 1,
      [`topicflow_connection_up{${conn}}`]: 1,
      [`topicflow_connection_connects_total{${conn}}`]: 2,
      [`topicflow_connection_unacknowledged{${conn}}`]: 5,
      [`topicflow_ack_latency_seconds_bucket{${conn},le="0.001"}`]: 1,
      [`topicflow_ack_latency_seconds_bucket{${conn},le="0.005"}`]: 3,
      [`topicflow_ack_latency_seconds_bucket{${conn},le="0.05"}`]: 4,
      [`topicflow_ack_latency_seconds_bucket{${conn},le="30"}`]: 4,
      [`topicflow_ack_latency_seconds_bucket{${conn},le="+Inf"}`]: 5,
      [`topicflow_ack_latency_seconds_count{${conn}}`]: 5,
      'topicflow_outbox_depth{node="post",type="http-post"}': 7,
      'topicflow_outbox_bytes{node="post",type="http-post"}': 700,
      'topicflow_outbox_max_messages{node="post",type="http-post"}': 10,
      'topicflow_outbox_max_bytes{node="post",type="http-post"}': 100_000,
      'topicflow_outbox_in_flight{node="post",type="http-post"}': 1,
      'topicflow_outbox_sent_total{node="post",type="http-post"}': 30,
      'topicflow_outbox_evicted_total{node="post",type="http-post"}': 4,
      'topicflow_outbox_retries_total{node="post",type="http-post"}': 5,
      'topicflow_outbox_failing{node="post",type="http-post"}': 1,
      topicflow_dead_letters_total: 9,
      topicflow_store_up: 1,
      'topicflow_health_status{status="healthy"}': 0,
      'topicflow_health_status{status="degraded"}': 1,
      'topicflow_health_status{status="unhealthy"}': 0,
    };
    for (const [sample, value] of Object.entries(expected)) assert.equal(m.get(sample), value, sample);
    const sum = m.get(`topicflow_ack_latency_seconds_sum{${conn}}`) ?? 0;
    assert.ok(Math.abs(sum - 120.0464) < 1e-9, String(sum));
    assert.equal(m.has('topicflow_outbox_depth{node="in",type="mqtt-in"}'), false, 'no outbox, no outbox metrics');
    assert.match(text, /# TYPE topicflow_node_messages_in_total counter/);
    assert.match(text, /# TYPE topicflow_ack_latency_seconds histogram/);
  });

  it('follows the status: gone nodes disappear, a failing store and a down connection show', async () => {
    let status = baseStatus();
    const metrics = createMetrics({ status: () => status }, { processMetrics: false });
    await metrics.render();
    status = {
      ...status,
      nodes: [status.nodes[0] as EngineStatus['nodes'][number]],
      connections: [{ ...(status.connections[0] as EngineStatus['connections'][number]), state: 'reconnecting' }],
      store: { state: 'failing', error: 'SQLITE_FULL', failingSinceMono: performance.now() },
    };
    const m = parseExposition(await metrics.render());
    assert.equal(
      [...m.keys()].some((k) => k.includes('node="post"')),
      false,
    );
    assert.equal(m.get('topicflow_store_up'), 0);
    assert.equal(m.get('topicflow_connection_up{connection="broker",url="mqtts://broker.example:8883"}'), 0);
    assert.equal(m.get('topicflow_health_status{status="unhealthy"}'), 1);
  });

  it('uses a private registry, with process metrics when asked', async () => {
    const metrics = createMetrics({ status: baseStatus });
    const m = parseExposition(await metrics.render());
    assert.ok(m.has('process_cpu_user_seconds_total'));
    assert.ok([...m.keys()].some((k) => k.startsWith('nodejs_heap_size_used_bytes')));
    assert.equal(globalRegistry.getSingleMetric('topicflow_node_messages_in_total'), undefined);
  });
});

describe('startObservabilityServer (stub engine)', () => {
  let status = baseStatus();
  let server: ObservabilityServer;
  before(async () => {
    server = await startObservabilityServer({ status: () => status }, { port: 0, processMetrics: false });
  });
  after(() => server.close());

  it('listens on 127.0.0.1 and a free port when given 0', () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(server.url, 'http://127.0.0.1:0');
  });

  it('GET /health: the JSON status, 200 unless unhealthy, 503 then', async () => {
    status = baseStatus();
    let response = await fetch(`${server.url}/health`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    const body = (await response.json()) as { status: string; reasons: { code: string }[]; flow: string };
    assert.equal(body.status, 'degraded');
    assert.deepEqual(
      body.reasons.map((r) => r.code),
      ['outbox-failing'],
    );
    assert.equal(body.flow, 'gateway "edge"');

    status = { ...status, store: { state: 'failing', error: 'SQLITE_FULL', failingSinceMono: performance.now() } };
    response = await fetch(`${server.url}/health`);
    assert.equal(response.status, 503);
    assert.equal(((await response.json()) as { status: string }).status, 'unhealthy');
  });

  it('GET /metrics: Prometheus text', async () => {
    const response = await fetch(`${server.url}/metrics`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    assert.ok(parseExposition(await response.text()).has('topicflow_dead_letters_total'));
  });

  it('HEAD answers without a body; other methods 405; other paths 404', async () => {
    const head = await fetch(`${server.url}/health`, { method: 'HEAD' });
    assert.equal(head.status, 503);
    assert.equal(await head.text(), '');
    const post = await fetch(`${server.url}/metrics`, { method: 'POST', body: 'x' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
    await post.text();
    for (const path of ['/', '/healthz', '/metrics/x', '/../etc/passwd']) {
      const response = await fetch(`${server.url}${path}`);
      assert.equal(response.status, 404, path);
      await response.text();
    }
    const query = await fetch(`${server.url}/metrics?name[]=x`);
    assert.equal(query.status, 200);
    await query.text();
  });
});
