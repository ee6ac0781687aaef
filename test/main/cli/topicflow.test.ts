import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, startCli } from '../../helpers/cli.js';
import { freePort } from '../../helpers/mosquitto.js';
import { repoRoot, tempDir } from '../../helpers/paths.js';

const flowFiles = readdirSync(join(repoRoot, 'flows'))
  .filter((f) => f.endsWith('.json'))
  .map((f) => `flows/${f}`);

describe('topicflow validate', () => {
  const tmp = tempDir();
  after(() => tmp.cleanup());

  it('accepts every example flow', async () => {
    assert.ok(flowFiles.length >= 4, 'the example flows are there');
    const result = await runCli(['validate', ...flowFiles]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    for (const file of flowFiles)
      assert.match(result.stdout, new RegExp(`^${file}: ok \\(\\d+ nodes, \\d+ edges\\)$`, 'm'));
  });

  it('exits 1 and lists every problem of a broken flow with its pointer', async () => {
    const file = join(tmp.path, 'broken.json');
    writeFileSync(
      file,
      JSON.stringify({
        format: 'topicflow/flow@1',
        name: 'broken',
        connections: [{ id: 'broker', url: 'mqtt://127.0.0.1:1883' }],
        nodes: [
          { id: 'in', type: 'mqtt-in', config: { connection: 'broker', topic: 'a/#/b' } },
          { id: 'x', type: 'no-such-node' },
          { id: 't', type: 'transform', config: { expression: '{ "a": ' } },
        ],
        edges: [{ id: 'e1', from: { node: 'in', port: 'out' }, to: { node: 'ghost', port: 'in' } }],
      }),
    );
    const result = await runCli(['validate', file]);
    assert.equal(result.code, 1);
    assert.match(result.stdout, /invalid, 3 problem\(s\)/);
    assert.match(result.stdout, /\/nodes\/0\/config\/topic: error: "#" must be the last level/);
    assert.match(result.stdout, /\/nodes\/1\/type: error: unknown node type "no-such-node"/);
    assert.match(result.stdout, /\/edges\/0\/to\/node: error: no node with id "ghost"/);
  });

  it('checks JSONata expressions and JSON Schemas before anything runs', async () => {
    const file = join(tmp.path, 'expressions.json');
    writeFileSync(
      file,
      JSON.stringify({
        format: 'topicflow/flow@1',
        name: 'expressions',
        connections: [],
        nodes: [
          { id: 't', type: 'transform', config: { expression: '{ "a": ' } },
          { id: 'v', type: 'validate', config: { schema: { $ref: 'https://example.com/remote.json' } } },
        ],
        edges: [],
      }),
    );
    const result = await runCli(['validate', file]);
    assert.equal(result.code, 1);
    assert.match(result.stdout, /\/nodes\/0\/config\/expression: error: /);
    assert.match(
      result.stdout,
      /\/nodes\/1\/config\/schema\/\$ref: error: \$ref "https:\/\/example.com\/remote.json" points outside the schema/,
    );
  });

  it('requires ${env:...} references to be set, from the environment or an --env-file', async () => {
    const file = join(tmp.path, 'env.json');
    writeFileSync(
      file,
      JSON.stringify({
        format: 'topicflow/flow@1',
        name: 'env',
        connections: [{ id: 'broker', url: '${env:BROKER_URL}' }],
        nodes: [{ id: 'in', type: 'mqtt-in', config: { connection: 'broker', topic: 'a' } }],
        edges: [],
      }),
    );
    const missing = await runCli(['validate', file]);
    assert.equal(missing.code, 1);
    assert.match(missing.stdout, /\/connections\/0\/url: error: \$\{env:BROKER_URL\} is not set/);
    assert.equal((await runCli(['validate', file], { BROKER_URL: 'mqtt://127.0.0.1:1' })).code, 0);
    const envFile = join(tmp.path, 'gateway.env');
    writeFileSync(envFile, 'BROKER_URL=mqtt://127.0.0.1:1\n');
    assert.equal((await runCli(['validate', file, '--env-file', envFile])).code, 0);
    assert.equal((await runCli(['validate', file, '--no-env'])).code, 0);
  });

  it('names a missing file', async () => {
    const result = await runCli(['validate', join(tmp.path, 'nope.json')]);
    assert.equal(result.code, 1);
    assert.match(result.stdout, /cannot read .*nope\.json/);
  });
});

describe('topicflow export', () => {
  const tmp = tempDir();
  after(() => tmp.cleanup());

  it('writes the gateway copy of flows/gateway.json, which topicflow validate accepts', async () => {
    const out = join(tmp.path, 'gateway-export.json');
    const result = await runCli(['export', 'flows/gateway.json', '-o', out]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, '');
    const exported = JSON.parse(readFileSync(out, 'utf8')) as Record<string, unknown>;
    assert.equal('layout' in exported, false);
    assert.match(result.stderr, /the gateway must set no environment variables/);
    const validated = await runCli(['validate', out]);
    assert.equal(validated.code, 0, validated.stdout + validated.stderr);
    const kept = await runCli(['export', 'flows/gateway.json', '--keep-layout']);
    assert.equal(kept.code, 0, kept.stderr);
    assert.ok('layout' in (JSON.parse(kept.stdout) as Record<string, unknown>));
  });

  it('refuses a literal password without printing it, then strips it into an env reference', async () => {
    const file = join(tmp.path, 'literal.json');
    const flow = JSON.parse(readFileSync(join(repoRoot, 'flows', 'gateway.json'), 'utf8')) as {
      connections: Record<string, unknown>[];
    };
    flow.connections[0] = { ...flow.connections[0], username: 'gw', password: 's3cret-literal' };
    writeFileSync(file, JSON.stringify(flow));

    const refused = await runCli(['export', file]);
    assert.equal(refused.code, 1);
    assert.equal(refused.stdout, '');
    assert.match(refused.stderr, /\/connections\/0\/password: error: holds a literal secret/);
    assert.ok(!(refused.stdout + refused.stderr).includes('s3cret-literal'));

    const stripped = await runCli(['export', file, '--strip-secrets']);
    assert.equal(stripped.code, 0, stripped.stderr);
    const exported = JSON.parse(stripped.stdout) as { connections: { password: string }[] };
    assert.equal(exported.connections[0]?.password, '${env:TOPICFLOW_BROKER_PASSWORD}');
    assert.match(stripped.stderr, /\/connections\/0\/password: warning: held a literal secret/);
    assert.match(stripped.stderr, /the gateway must set: TOPICFLOW_BROKER_PASSWORD\n/);
    assert.ok(!(stripped.stdout + stripped.stderr).includes('s3cret-literal'));
  });
});

describe('topicflow nodes', () => {
  it('lists every node type', async () => {
    const result = await runCli(['nodes']);
    assert.equal(result.code, 0);
    for (const type of [
      'mqtt-in',
      'simulator',
      'validate',
      'transform',
      'filter',
      'sqlite-sink',
      'mqtt-out',
      'http-post',
      'debug',
    ]) {
      assert.match(result.stdout, new RegExp(`^${type}\\s`, 'm'));
    }
  });

  it('prints the declarations as JSON with their secret fields', async () => {
    const result = await runCli(['nodes', '--json']);
    const specs = JSON.parse(result.stdout) as { type: string; secrets: string[]; config: object }[];
    assert.deepEqual(specs.find((s) => s.type === 'http-post')?.secrets, ['/secretHeaders/*']);
    assert.ok(specs.every((s) => typeof s.config === 'object'));
  });
});

describe('topicflow run', () => {
  const tmp = tempDir();
  let port = 0;
  before(async () => {
    port = await freePort();
  });
  after(() => tmp.cleanup());

  it('starts nothing for an invalid flow and exits 1 with the problems', async () => {
    const file = join(tmp.path, 'invalid.json');
    writeFileSync(
      file,
      JSON.stringify({
        format: 'topicflow/flow@1',
        name: 'x',
        connections: [],
        nodes: [{ id: 'a', type: 'nope' }],
        edges: [],
      }),
    );
    const dataDir = join(tmp.path, 'never');
    const result = await runCli(['run', file, '--data-dir', dataDir]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /invalid, nothing started/);
    assert.match(result.stderr, /\/nodes\/0\/type: error: unknown node type "nope"/);
    assert.equal(existsSync(dataDir), false, 'no store was created');
  });

  it('keeps retrying an unreachable broker with growing delays, and drains and exits 0 on SIGTERM', async () => {
    const cli = startCli(['run', 'flows/pico-sensors.json', '--data-dir', join(tmp.path, 'unreachable')], {
      MQTT_URL: `mqtt://127.0.0.1:${port}`,
    });
    try {
      await cli.waitForLog('mqtt reconnect scheduled', { attempt: 2 }, 10_000);
      const delays = cli
        .logs()
        .filter((l) => l['msg'] === 'mqtt reconnect scheduled')
        .map((l) => l['retryInMs'] as number);
      assert.ok((delays[1] as number) >= 1000, `the second delay backs off: ${delays.join(', ')}`);
      assert.ok(cli.logs().some((l) => l['msg'] === 'mqtt error' && /ECONNREFUSED/.test(String(l['error']))));
      const result = await cli.stop('SIGTERM');
      assert.equal(result.code, 0, result.stderr);
      assert.ok(cli.logs().some((l) => l['msg'] === 'engine stopped'));
    } finally {
      await cli.stop('SIGKILL');
    }
  });

  it('exits 0 on SIGINT too', async () => {
    const cli = startCli(['run', 'flows/pico-sensors.json', '--data-dir', join(tmp.path, 'sigint')], {
      MQTT_URL: `mqtt://127.0.0.1:${port}`,
    });
    try {
      await cli.waitForLog('flow deployed');
      const result = await cli.stop('SIGINT');
      assert.equal(result.code, 0, result.stderr);
    } finally {
      await cli.stop('SIGKILL');
    }
  });
});

describe('topicflow', () => {
  it('prints its version and refuses unknown commands', async () => {
    assert.match((await runCli(['--version'])).stdout, /^\d+\.\d+\.\d+\n$/);
    const unknown = await runCli(['frobnicate']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command "frobnicate"/);
  });
});
