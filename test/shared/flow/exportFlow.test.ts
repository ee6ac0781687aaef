import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exportFlow, secretEnvName, type ExportResult } from '../../../shared/flow/exportFlow.js';
import { validateFlowDocument } from '../../../shared/flow/validateFlow.js';

const SECRET = 'hunter2-do-not-print';

function flow(password: string, header = 'Bearer ${env:API_TOKEN}'): Record<string, unknown> {
  return {
    format: 'topicflow/flow@1',
    name: 'export test',
    connections: [{ id: 'broker', url: '${env:MQTT_URL:-mqtt://127.0.0.1:1883}', username: 'gw', password }],
    nodes: [
      { id: 'in', type: 'mqtt-in', config: { connection: 'broker', topic: 'a/{device}' } },
      {
        id: 'ingest',
        type: 'http-post',
        config: { url: '${env:INGEST_URL}', secretHeaders: { Authorization: header } },
      },
    ],
    edges: [{ id: 'e1', from: { node: 'in', port: 'out' }, to: { node: 'ingest', port: 'in' } }],
    layout: { nodes: { in: { x: 0, y: 0 }, ingest: { x: 200, y: 0 } } },
  };
}

function ok(result: ExportResult): Extract<ExportResult, { ok: true }> {
  assert.ok(result.ok, result.ok ? '' : JSON.stringify(result.problems, null, 2));
  return result;
}

describe('exportFlow', () => {
  it('refuses a literal secret, naming its pointer and never its value', () => {
    const input = flow(SECRET, 'Bearer abc123-literal');
    const result = exportFlow(input);
    assert.equal(result.ok, false);
    if (result.ok) return;
    const pointers = result.problems.filter((p) => p.severity === 'error').map((p) => p.pointer);
    assert.deepEqual(pointers, ['/connections/0/password', '/nodes/1/config/secretHeaders/Authorization']);
    const text = JSON.stringify(result.problems);
    assert.ok(!text.includes(SECRET) && !text.includes('abc123'), text);
    assert.match(result.problems[0]?.message ?? '', /literal secret.*\$\{env:TOPICFLOW_BROKER_PASSWORD\}/);
    // The input is untouched.
    assert.equal((input['connections'] as { password: string }[])[0]?.password, SECRET);
  });

  it('refuses a secret reference with a fallback (the fallback is a literal secret)', () => {
    const result = exportFlow(flow(`\${env:MQTT_PASSWORD:-${SECRET}}`));
    assert.equal(result.ok, false);
    if (!result.ok) {
      assert.equal(result.problems[0]?.pointer, '/connections/0/password');
      assert.ok(!JSON.stringify(result.problems).includes(SECRET));
    }
  });

  it('with stripSecrets, replaces each literal secret by an env reference with a warning', () => {
    const input = flow(SECRET, 'Bearer abc123-literal');
    const result = ok(exportFlow(input, { stripSecrets: true }));
    const connection = result.document.connections[0];
    assert.equal(connection?.password, '${env:TOPICFLOW_BROKER_PASSWORD}');
    assert.deepEqual(result.document.nodes[1]?.config?.['secretHeaders'], {
      Authorization: '${env:TOPICFLOW_INGEST_SECRET_HEADERS_AUTHORIZATION}',
    });
    const warned = result.warnings.filter((w) => /literal secret/.test(w.message)).map((w) => w.pointer);
    assert.deepEqual(warned, ['/connections/0/password', '/nodes/1/config/secretHeaders/Authorization']);
    assert.ok(!JSON.stringify(result).includes(SECRET));
    assert.deepEqual(result.requiredEnv, [
      'INGEST_URL',
      'TOPICFLOW_BROKER_PASSWORD',
      'TOPICFLOW_INGEST_SECRET_HEADERS_AUTHORIZATION',
    ]);
    assert.equal(validateFlowDocument(result.document).ok, true);
  });

  it('derives upper-snake names and keeps them apart from names already used', () => {
    assert.equal(secretEnvName('broker', ['tls', 'passphrase']), 'TOPICFLOW_BROKER_TLS_PASSPHRASE');
    assert.equal(
      secretEnvName('gw.edge-1', ['secretHeaders', 'X-Api-Key']),
      'TOPICFLOW_GW_EDGE_1_SECRET_HEADERS_X_API_KEY',
    );
    const input = flow(SECRET);
    const connections = input['connections'] as Record<string, unknown>[];
    connections[0] = { ...connections[0], tls: { passphrase: '${env:TOPICFLOW_BROKER_PASSWORD}' } };
    const result = ok(exportFlow(input, { stripSecrets: true }));
    assert.equal(result.document.connections[0]?.password, '${env:TOPICFLOW_BROKER_PASSWORD_2}');
  });

  it('turns ${secret:NAME} into ${env:NAME} and says which variables the gateway needs', () => {
    const result = ok(exportFlow(flow('${secret:MQTT_PASSWORD}', 'Bearer ${secret:API_TOKEN}')));
    assert.equal(result.document.connections[0]?.password, '${env:MQTT_PASSWORD}');
    assert.deepEqual(result.document.nodes[1]?.config?.['secretHeaders'], { Authorization: 'Bearer ${env:API_TOKEN}' });
    assert.ok(!JSON.stringify(result.document).includes('${secret:'));
    // MQTT_URL has a fallback: not required.
    assert.deepEqual(result.requiredEnv, ['API_TOKEN', 'INGEST_URL', 'MQTT_PASSWORD']);
    const notes = result.warnings.map((w) => `${w.pointer}: ${w.message}`);
    assert.ok(
      notes.some((n) => n.startsWith('/connections/0/password: ${secret:MQTT_PASSWORD}')),
      notes.join('\n'),
    );
    assert.match(
      notes.at(-1) ?? '',
      /^: the gateway must set these environment variables: API_TOKEN, INGEST_URL, MQTT_PASSWORD$/,
    );
  });

  it('drops the layout unless asked to keep it, and leaves defaults unfilled', () => {
    const input = flow('${env:MQTT_PASSWORD}');
    const dropped = ok(exportFlow(input));
    assert.equal('layout' in dropped.document, false);
    assert.equal(dropped.document.nodes[0]?.config?.['qos'], undefined);
    const kept = ok(exportFlow(input, { keepLayout: true }));
    assert.deepEqual(kept.document.layout, input['layout']);
  });

  it('reports the problems of an invalid flow', () => {
    const input = flow('${env:MQTT_PASSWORD}');
    (input['edges'] as unknown[]).push({
      id: 'e2',
      from: { node: 'ghost', port: 'out' },
      to: { node: 'in', port: 'x' },
    });
    const result = exportFlow(input, { stripSecrets: true });
    assert.equal(result.ok, false);
    if (!result.ok) assert.ok(result.problems.some((p) => p.pointer === '/edges/1/from/node'));
  });
});
