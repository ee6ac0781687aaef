import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_FLOW_FILE_BYTES } from '../../../shared/flow/flowDocument.js';
import { parseFlowText, validateFlowDocument, type FlowValidation } from '../../../shared/flow/validateFlow.js';

function baseFlow(): Record<string, unknown> & { nodes: Record<string, unknown>[]; edges: Record<string, unknown>[] } {
  return {
    format: 'topicflow/flow@1',
    name: 'test',
    connections: [{ id: 'broker', url: 'mqtt://127.0.0.1:1883' }],
    nodes: [
      { id: 'in', type: 'mqtt-in', config: { connection: 'broker', topic: 'a/{device}' } },
      { id: 'check', type: 'validate', config: { schema: { type: 'object' } } },
      { id: 'db', type: 'sqlite-sink', config: { table: 'rows' } },
    ],
    edges: [
      { id: 'e1', from: { node: 'in', port: 'out' }, to: { node: 'check', port: 'in' } },
      { id: 'e2', from: { node: 'check', port: 'valid' }, to: { node: 'db', port: 'in' } },
    ],
  };
}

function problems(result: FlowValidation): string[] {
  return result.problems.filter((p) => p.severity === 'error').map((p) => `${p.pointer}: ${p.message}`);
}

function expectProblem(input: unknown, pointer: string, message: RegExp): void {
  const result = validateFlowDocument(input);
  assert.equal(result.ok, false, 'the flow should be invalid');
  const found = result.problems.find((p) => p.pointer === pointer && message.test(p.message));
  assert.ok(found, `expected a problem at ${pointer} matching ${message}; got:\n${problems(result).join('\n')}`);
}

describe('validateFlowDocument', () => {
  it('accepts a valid flow and fills in config defaults', () => {
    const result = validateFlowDocument(baseFlow());
    assert.ok(result.ok, problems(result).join('\n'));
    const mqttIn = result.flow.nodes[0]?.config as Record<string, unknown>;
    assert.equal(mqttIn['qos'], 1);
    assert.equal(mqttIn['decoding'], 'auto');
    assert.equal((result.flow.nodes[2]?.config as Record<string, unknown>)['mode'], 'row');
  });

  it('does not change the document it was given', () => {
    const flow = baseFlow();
    const before = JSON.stringify(flow);
    validateFlowDocument(flow);
    assert.equal(JSON.stringify(flow), before);
  });

  it('names an unknown node type', () => {
    const flow = baseFlow();
    flow.nodes.push({ id: 'x', type: 'mqtt-inn', config: {} });
    expectProblem(flow, '/nodes/3/type', /unknown node type "mqtt-inn"/);
  });

  it('names unknown ports and dangling edges', () => {
    const flow = baseFlow();
    flow.edges.push({ id: 'e3', from: { node: 'check', port: 'maybe' }, to: { node: 'db', port: 'in' } });
    flow.edges.push({ id: 'e4', from: { node: 'in', port: 'out' }, to: { node: 'ghost', port: 'in' } });
    flow.edges.push({ id: 'e5', from: { node: 'db', port: 'out' }, to: { node: 'check', port: 'in' } });
    const result = validateFlowDocument(flow);
    assert.equal(result.ok, false);
    const all = problems(result);
    assert.ok(
      all.some((p) =>
        p.startsWith('/edges/2/from/port: node "check" has no output port "maybe" (it has: valid, invalid)'),
      ),
      all.join('\n'),
    );
    assert.ok(
      all.some((p) => p.startsWith('/edges/3/to/node: no node with id "ghost"')),
      all.join('\n'),
    );
    assert.ok(
      all.some((p) => p.startsWith('/edges/4/from/port: node "db" has no output port "out" (it has none)')),
      all.join('\n'),
    );
  });

  it('names duplicate node, edge and connection ids and duplicate edges', () => {
    const flow = baseFlow();
    flow.nodes.push({ id: 'db', type: 'debug' });
    flow.edges.push({ id: 'e1', from: { node: 'in', port: 'out' }, to: { node: 'check', port: 'in' } });
    (flow['connections'] as unknown[]).push({ id: 'broker', url: 'mqtt://h' });
    const result = validateFlowDocument(flow);
    const all = problems(result);
    assert.ok(all.includes('/nodes/3/id: duplicate node id "db"'), all.join('\n'));
    assert.ok(all.includes('/edges/2/id: duplicate edge id "e1"'), all.join('\n'));
    assert.ok(all.includes('/edges/2: duplicates another edge between the same ports'), all.join('\n'));
    assert.ok(all.includes('/connections/1/id: duplicate connection id "broker"'), all.join('\n'));
  });

  it('finds cycles', () => {
    const flow = baseFlow();
    flow.nodes.push({ id: 't1', type: 'transform', config: { expression: '$' } });
    flow.nodes.push({ id: 't2', type: 'transform', config: { expression: '$' } });
    flow.edges.push({ id: 'c1', from: { node: 't1', port: 'out' }, to: { node: 't2', port: 'in' } });
    flow.edges.push({ id: 'c2', from: { node: 't2', port: 'out' }, to: { node: 't1', port: 'in' } });
    const result = validateFlowDocument(flow);
    assert.equal(result.ok, false);
    assert.match(problems(result).join('\n'), /\/edges\/2: the edges form a cycle through nodes "t1", "t2"/);
  });

  it('checks node configs against their schema, naming the field', () => {
    const flow = baseFlow();
    flow.nodes[0] = {
      id: 'in',
      type: 'mqtt-in',
      config: { connection: 'broker', topic: 'a/#/b', qos: 3, decodng: 'json' },
    };
    flow.nodes[2] = { id: 'db', type: 'sqlite-sink', config: { table: 'drop table;' } };
    const all = problems(validateFlowDocument(flow));
    assert.ok(all.includes('/nodes/0/config/qos: must be one of [0,1,2]'), all.join('\n'));
    assert.ok(all.includes('/nodes/0/config/decodng: is not a known property'), all.join('\n'));
    assert.ok(
      all.some((p) => p.startsWith('/nodes/2/config/table: must match pattern')),
      all.join('\n'),
    );
    const missing = baseFlow();
    missing.nodes[1] = { id: 'check', type: 'validate', config: {} };
    expectProblem(missing, '/nodes/1/config/schema', /is required/);
  });

  it('runs the checks a schema cannot express', () => {
    const flow = baseFlow();
    flow.nodes[0] = { id: 'in', type: 'mqtt-in', config: { connection: 'broker', topic: 'a/#/b' } };
    expectProblem(flow, '/nodes/0/config/topic', /"#" must be the last level/);
    const upsert = baseFlow();
    upsert.nodes[2] = { id: 'db', type: 'sqlite-sink', config: { table: 't', mode: 'upsert', keys: ['device'] } };
    expectProblem(upsert, '/nodes/2/config/keys/0', /key "device" is not one of the columns/);
    const sim = baseFlow();
    sim.nodes.push({ id: 'sim', type: 'simulator', config: { mode: 'publish' } });
    expectProblem(sim, '/nodes/3/config/connection', /required when mode is "publish"/);
  });

  it('names a node that uses a connection the flow does not have', () => {
    const flow = baseFlow();
    flow.nodes[0] = { id: 'in', type: 'mqtt-in', config: { connection: 'elsewhere', topic: 'a' } };
    expectProblem(flow, '/nodes/0/config/connection', /no connection with id "elsewhere"/);
  });

  it('checks connections', () => {
    const flow = baseFlow();
    flow['connections'] = [{ id: 'broker' }];
    expectProblem(flow, '/connections/0', /needs either "url".*or "embedded"/);
    flow['connections'] = [{ id: 'broker', url: 'mqtt://h:1883', clean: false }];
    expectProblem(flow, '/connections/0/clientId', /required with "clean": false/);
    flow['connections'] = [{ id: 'broker', url: 'http://h:1883' }];
    expectProblem(flow, '/connections/0/url', /must start with mqtt:\/\/, mqtts:\/\/, ws:\/\/ or wss:\/\//);
  });

  it('refuses literal secrets and accepts references', () => {
    const flow = baseFlow();
    flow['connections'] = [{ id: 'broker', url: 'mqtt://h', username: 'u', password: 'hunter2' }];
    expectProblem(flow, '/connections/0/password', /literal secret/);
    flow['connections'] = [{ id: 'broker', url: 'mqtt://h', username: 'u', password: '${env:PW:-hunter2}' }];
    expectProblem(flow, '/connections/0/password', /may not carry a fallback/);
    const post = baseFlow();
    post.nodes.push({
      id: 'post',
      type: 'http-post',
      config: { url: 'http://127.0.0.1:1/x', secretHeaders: { authorization: 'Bearer abc' } },
    });
    expectProblem(post, '/nodes/3/config/secretHeaders/authorization', /literal secret/);
    post.nodes[3] = {
      id: 'post',
      type: 'http-post',
      config: { url: 'http://127.0.0.1:1/x', secretHeaders: { authorization: 'Bearer ${env:TOKEN}' } },
    };
    const ok = validateFlowDocument(post);
    assert.ok(ok.ok, problems(ok).join('\n'));
  });

  it('checks ${env:...} references when given a lookup', () => {
    const flow = baseFlow();
    flow['connections'] = [{ id: 'broker', url: '${env:MQTT_URL}', password: '${env:MQTT_PW}' }];
    const lookup = (name: string) => (name === 'MQTT_URL' ? 'mqtt://127.0.0.1:1' : undefined);
    const result = validateFlowDocument(flow, { lookup });
    assert.equal(result.ok, false);
    assert.deepEqual(problems(result), [
      '/connections/0/password: ${env:MQTT_PW} is not set: define MQTT_PW in the environment or an --env-file',
    ]);
    const withFallback = baseFlow();
    withFallback['connections'] = [{ id: 'broker', url: '${env:NOPE:-mqtt://127.0.0.1:1883}' }];
    assert.ok(validateFlowDocument(withFallback, { lookup }).ok);
    assert.ok(validateFlowDocument(flow).ok, 'without a lookup references are not checked');
  });

  it('keeps layout apart and only warns about positions of missing nodes', () => {
    const flow = baseFlow();
    flow['layout'] = { nodes: { in: { x: 1, y: 2 }, ghost: { x: 0, y: 0 } } };
    const result = validateFlowDocument(flow);
    assert.ok(result.ok);
    assert.deepEqual(
      result.problems.map((p) => [p.severity, p.pointer]),
      [['warning', '/layout/nodes/ghost']],
    );
  });

  it('refuses newer formats with a clear message and unknown formats', () => {
    expectProblem(
      { ...baseFlow(), format: 'topicflow/flow@2' },
      '/format',
      /newer TopicFlow \(flow@2\).*reads up to flow@1/,
    );
    expectProblem({ ...baseFlow(), format: 'node-red' }, '/format', /not a TopicFlow flow format/);
    expectProblem([], '', /must be a JSON object/);
  });

  it('reports every problem, not only the first', () => {
    const flow = baseFlow();
    flow.nodes.push({ id: 'x', type: 'nope' });
    flow.edges.push({ id: 'e9', from: { node: 'ghost', port: 'out' }, to: { node: 'db', port: 'in' } });
    flow.nodes[1] = { id: 'check', type: 'validate', config: { schema: { type: 'object' }, allErrors: 'yes' } };
    assert.ok(problems(validateFlowDocument(flow)).length >= 3);
  });
});

describe('parseFlowText', () => {
  it('names the line and column of a JSON syntax error', () => {
    const result = parseFlowText('{\n  "format": "topicflow/flow@1",\n  "name": }');
    assert.equal(result.ok, false);
    assert.match(result.problems[0]?.message ?? '', /not valid JSON: .*line 3, column 11/);
  });

  it('refuses a document nested 100,000 levels deep with a message, not a stack overflow', () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const result = parseFlowText(
      `{"format":"topicflow/flow@1","name":"x","connections":[],"nodes":[],"edges":[],"layout":${deep}}`,
    );
    assert.equal(result.ok, false);
    assert.deepEqual(
      result.problems.map((p) => p.message),
      ['the document is nested deeper than 128 levels'],
    );
    let layout: unknown = {};
    for (let i = 0; i < 100_000; i++) layout = [layout];
    const parsed = validateFlowDocument({ format: 'topicflow/flow@1', name: 'x', nodes: [], edges: [], layout });
    assert.deepEqual(
      parsed.problems.map((p) => p.message),
      ['the document is nested deeper than 128 levels'],
    );
  });

  it('refuses files over the size limit before parsing', () => {
    const result = parseFlowText(`{"pad":"${'x'.repeat(MAX_FLOW_FILE_BYTES)}"}`);
    assert.equal(result.ok, false);
    assert.match(result.problems[0]?.message ?? '', /larger than 5242880 bytes/);
  });

  it('refuses __proto__ keys', () => {
    const result = parseFlowText('{"format":"topicflow/flow@1","__proto__":{"polluted":true}}');
    assert.equal(result.ok, false);
    assert.match(result.problems[0]?.message ?? '', /__proto__/);
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  });
});
