import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startCli, runCli } from '../../helpers/cli.js';
import { flowOf, startEngine } from '../../helpers/engineHarness.js';
import { freePort } from '../../helpers/mosquitto.js';
import { tempDir } from '../../helpers/paths.js';
import { waitFor } from '../../helpers/waitFor.js';
import { startObservabilityServer } from '../../../main/server/observabilityServer.js';
import { parseExposition, samplesOf } from './prometheusText.js';

interface HealthBody {
  status: string;
  reasons: { code: string; detail: string; severity: string; connection?: string }[];
  flow: string | null;
  revision: string | null;
}

async function getHealth(url: string): Promise<{ code: number; body: HealthBody }> {
  const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(5000) });
  return { code: response.status, body: (await response.json()) as HealthBody };
}

async function scrape(url: string): Promise<Map<string, number>> {
  const response = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  return parseExposition(await response.text());
}

/** A loopback broker URL nothing listens on. */
async function closedBrokerUrl(): Promise<string> {
  return `mqtt://127.0.0.1:${await freePort()}`;
}

function writeFlow(dir: string, name: string, flow: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(flow));
  return file;
}

const listenFlow = (url: string): unknown =>
  flowOf(
    url,
    [
      { id: 'in', type: 'mqtt-in', config: { connection: 'broker', topic: 'sensors/#', qos: 1 } },
      { id: 'show', type: 'debug', config: {} },
    ],
    [['in', 'out', 'show']],
  );

describe('topicflow run --http (end to end)', () => {
  const tmp = tempDir();
  after(() => tmp.cleanup());

  it('serves /health and /metrics for the demo flow: healthy, counters rising, ack latency observed', async () => {
    const cli = startCli(['run', 'flows/demo.json', '--data-dir', join(tmp.path, 'demo'), '--http', '127.0.0.1:0']);
    try {
      const listening = await cli.waitForLog('observability listening', {}, 30_000);
      const url = listening['url'] as string;
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);

      const healthy = await waitFor(
        'the demo to be healthy',
        async () => {
          const health = await getHealth(url);
          return health.body.status === 'healthy' ? health : undefined;
        },
        15_000,
        200,
      );
      assert.equal(healthy.code, 200);
      assert.deepEqual(healthy.body.reasons, []);
      assert.equal(healthy.body.flow, 'Zero-setup demo');
      assert.match(healthy.body.revision ?? '', /^[0-9a-f]{12}$/);

      const sink = '{node="readings",type="sqlite-sink"}';
      const source = '{node="telemetry-in",type="mqtt-in"}';
      const first = await waitFor(
        'telemetry rows counted',
        async () => {
          const m = await scrape(url);
          return (m.get(`topicflow_node_messages_in_total${sink}`) ?? 0) > 0 ? m : undefined;
        },
        15_000,
        200,
      );
      // The fleet publishes every 500 ms.
      const second = await waitFor(
        'the counters to rise',
        async () => {
          const m = await scrape(url);
          return (m.get(`topicflow_node_messages_in_total${sink}`) ?? 0) >
            (first.get(`topicflow_node_messages_in_total${sink}`) ?? 0) &&
            (m.get(`topicflow_node_messages_out_total${source}`) ?? 0) >
              (first.get(`topicflow_node_messages_out_total${source}`) ?? 0)
            ? m
            : undefined;
        },
        10_000,
        300,
      );
      assert.equal(second.get('topicflow_health_status{status="healthy"}'), 1);
      assert.equal(second.get('topicflow_store_up'), 1);
      const up = samplesOf(second, 'topicflow_connection_up');
      assert.equal(up.size, 1);
      assert.match([...up.keys()][0] as string, /^\{connection="local",url="mqtt:\/\/127\.0\.0\.1:\d+"\}$/);
      assert.equal([...up.values()][0], 1);
      assert.ok((second.get('topicflow_dead_letters_total') ?? -1) >= 0);
      assert.ok(second.has('process_resident_memory_bytes'));

      // Status readings (QoS 1) are acknowledged after their commit: the histogram sees them.
      const withAcks = await waitFor(
        'ack latency observations',
        async () => {
          const m = await scrape(url);
          const count = [...samplesOf(m, 'topicflow_ack_latency_seconds_count').values()][0] ?? 0;
          return count > 0 ? m : undefined;
        },
        15_000,
        300,
      );
      const buckets = samplesOf(withAcks, 'topicflow_ack_latency_seconds_bucket');
      const count = [...samplesOf(withAcks, 'topicflow_ack_latency_seconds_count').values()][0];
      const inf = [...buckets].find(([labels]) => labels.includes('le="+Inf"'))?.[1];
      assert.equal(inf, count, '+Inf bucket holds every observation');
      const values = [...buckets.values()];
      assert.deepEqual(
        values,
        [...values].sort((a, b) => a - b),
        'buckets are cumulative',
      );
    } finally {
      const result = await cli.stop('SIGTERM', 20_000);
      assert.equal(result.code, 0, result.stderr);
      assert.ok(
        cli.logs().some((l) => l['msg'] === 'observability closed'),
        'closed after the drain',
      );
    }
  });

  it('reports a broker it cannot reach as degraded (HTTP 200) with reason disconnected', async () => {
    const brokerUrl = await closedBrokerUrl();
    const file = writeFlow(tmp.path, 'unreachable.json', listenFlow(brokerUrl));
    const cli = startCli(['run', file, '--data-dir', join(tmp.path, 'unreachable'), '--http', '0']);
    try {
      const url = (await cli.waitForLog('observability listening', {}, 30_000))['url'] as string;
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/, 'a bare port means 127.0.0.1');
      const health = await waitFor(
        'a disconnected reason',
        async () => {
          const h = await getHealth(url);
          return h.body.reasons.some((r) => r.code === 'disconnected') ? h : undefined;
        },
        10_000,
        200,
      );
      assert.equal(health.code, 200);
      assert.equal(health.body.status, 'degraded');
      assert.equal(health.body.reasons[0]?.connection, 'broker');
      assert.match(health.body.reasons[0]?.detail ?? '', /ECONNREFUSED|is (connecting|reconnecting)/);
      const m = await scrape(url);
      assert.equal(m.get(`topicflow_connection_up{connection="broker",url="${brokerUrl}"}`), 0);
      assert.equal(m.get('topicflow_health_status{status="degraded"}'), 1);
    } finally {
      const result = await cli.stop('SIGTERM', 20_000);
      assert.equal(result.code, 0, result.stderr);
    }
  });

  it('refuses a non-loopback address without --http-public, and a malformed one, before starting', async () => {
    const publicResult = await runCli(['run', 'flows/demo.json', '--http', '0.0.0.0:9464']);
    assert.equal(publicResult.code, 2);
    assert.match(publicResult.stderr, /0\.0\.0\.0 is not a loopback address/);
    assert.match(publicResult.stderr, /--http-public/);
    assert.doesNotMatch(publicResult.stdout, /"msg":"starting"/, 'nothing started');

    const malformed = await runCli(['run', 'flows/demo.json', '--http', 'localhost']);
    assert.equal(malformed.code, 2);
    assert.match(malformed.stderr, /expected PORT or HOST:PORT/);
  });

  it('exits 1 when the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const file = writeFlow(tmp.path, 'taken.json', listenFlow(await closedBrokerUrl()));
      const result = await runCli(['run', file, '--data-dir', join(tmp.path, 'taken'), '--http', `127.0.0.1:${port}`]);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /cannot serve --http 127\.0\.0\.1:\d+: .*EADDRINUSE/);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});

describe('observability server on a real engine', () => {
  it('answers 503 unhealthy once a connection has been down past the threshold', async () => {
    const harness = await startEngine(listenFlow(await closedBrokerUrl()));
    const server = await startObservabilityServer(harness.engine, {
      port: 0,
      processMetrics: false,
      health: { disconnectedUnhealthyAfterMs: 0 },
    });
    try {
      const connection = harness.engine.status().connections[0];
      assert.notEqual(connection?.downSinceMono, undefined, 'the engine says since when it is down');
      const health = await getHealth(server.url);
      assert.equal(health.code, 503);
      assert.equal(health.body.status, 'unhealthy');
      assert.deepEqual(
        health.body.reasons.map((r) => [r.code, r.severity]),
        [['disconnected', 'unhealthy']],
      );
      assert.equal(health.body.flow, 'test flow');
      const response = await fetch(`${server.url}/metrics`);
      const m = parseExposition(await response.text());
      assert.equal(m.get('topicflow_health_status{status="unhealthy"}'), 1, 'the metric agrees with /health');
    } finally {
      await server.close();
      await harness.stop();
    }
  });
});
