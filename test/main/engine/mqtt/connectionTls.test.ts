import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { MqttClient } from 'mqtt';
import { flowOf, startEngine, testClient } from '../../../helpers/engineHarness.js';
import { startMosquitto, type Mosquitto } from '../../../helpers/mosquitto.js';
import { tempDir } from '../../../helpers/paths.js';
import { waitFor } from '../../../helpers/waitFor.js';
import { count, nodeStatus, onlyConnection, publishAll, sleep } from '../support/engineHelpers.js';
import { captureLogs } from '../support/logCapture.js';
import { generateTestCerts, opensslUnavailable, type TestCerts } from '../support/testCerts.js';

import { LIMIT, mqttIn, sink } from '../support/connectionFixtures.js';

const noOpenssl = opensslUnavailable();

describe('TLS', { skip: noOpenssl ?? false }, () => {
  let dir: ReturnType<typeof tempDir>;
  let certs: TestCerts;
  let serverTls: Mosquitto;
  let serverMutual: Mosquitto;
  let publisherTls: MqttClient;
  let publisherMutual: MqttClient;

  before(async () => {
    dir = tempDir('topicflow-certs-');
    certs = generateTestCerts(dir.path);
    const tls = { caFile: certs.caFile, certFile: certs.serverCert, keyFile: certs.serverKey };
    serverTls = await startMosquitto({ tls });
    serverMutual = await startMosquitto({ tls: { ...tls, requireCertificate: true } });
    // The test side publishes on the plain listener of the same broker.
    publisherTls = await testClient(serverTls.url);
    publisherMutual = await testClient(serverMutual.url);
  });
  after(async () => {
    await publisherTls?.endAsync();
    await publisherMutual?.endAsync();
    await serverTls?.stop();
    await serverMutual?.stop();
    dir?.cleanup();
  });

  it('connects over mqtts:// when the CA is given (and checks the server name)', LIMIT, async () => {
    const url = serverTls.tlsUrl as string;
    assert.match(url, /^mqtts:\/\//);
    const harness = await startEngine(
      flowOf(
        url,
        [mqttIn('in', 'tls/#', 'tls'), mqttIn('named', 'tlsname/#', 'tlsNamed'), sink('store', 'tls_rows')],
        [
          ['in', 'out', 'store'],
          ['named', 'out', 'store'],
        ],
        {
          connections: [
            { id: 'tls', url, tls: { ca: certs.caFile } },
            { id: 'tlsNamed', url, tls: { ca: certs.caFile, servername: 'localhost' } },
          ],
        },
      ),
    );
    try {
      assert.deepEqual(harness.result.failed, []);
      await waitFor(
        'both TLS connections up',
        () => {
          const all = harness.engine.status().connections;
          return all.length === 2 && all.every((c) => c.state === 'connected');
        },
        10_000,
      );
      await publishAll(publisherTls, 'tls/probe', ['1'], 1, true);
      await publishAll(publisherTls, 'tlsname/probe', ['2'], 1, true);
      await waitFor('both probes', () => count(harness, 'tls_rows') === 2, 10_000);
      await publishAll(publisherTls, 'tls/live', ['3', '4']);
      await waitFor('live messages', () => count(harness, 'tls_rows') === 4, 10_000);
    } finally {
      await publishAll(publisherTls, 'tls/probe', [''], 1, true);
      await publishAll(publisherTls, 'tlsname/probe', [''], 1, true);
      await harness.stop();
    }
  });

  it('refuses a server it cannot verify (no CA, wrong CA, wrong name), without crashing', LIMIT, async () => {
    const url = serverTls.tlsUrl as string;
    const logs = captureLogs();
    const harness = await startEngine(
      flowOf(
        url,
        [
          mqttIn('noCa', 'reject/#', 'noCa'),
          mqttIn('otherCa', 'reject/#', 'otherCa'),
          mqttIn('wrongName', 'reject/#', 'wrongName'),
          sink('store', 'reject_rows'),
        ],
        [
          ['noCa', 'out', 'store'],
          ['otherCa', 'out', 'store'],
          ['wrongName', 'out', 'store'],
        ],
        {
          connections: [
            { id: 'noCa', url },
            { id: 'otherCa', url, tls: { ca: certs.otherCaFile } },
            { id: 'wrongName', url, tls: { ca: certs.caFile, servername: 'not-this-server.example' } },
          ],
        },
      ),
      { logger: logs.logger },
    );
    try {
      assert.deepEqual(harness.result.failed, [], 'deploying must not fail: the nodes wait for their broker');
      await waitFor(
        'each connection to have failed twice',
        () =>
          ['noCa', 'otherCa', 'wrongName'].every(
            (id) => logs.find('mqtt reconnect scheduled', { connection: id }).length >= 2,
          ),
        10_000,
      );
      await publishAll(publisherTls, 'reject/x', ['1', '2', '3']);
      await publishAll(publisherTls, 'reject/probe', ['4'], 1, true);
      await sleep(1500); // covers at least one more reconnect attempt of each
      assert.equal(count(harness, 'reject_rows'), 0, 'a message came through an unverified connection');
      const status = harness.engine.status();
      for (const id of ['noCa', 'otherCa', 'wrongName']) {
        const c = status.connections.find((x) => x.id === id);
        assert.ok(c, `connection ${id} missing from status`);
        assert.equal(c.connects, 0, `${id} connected`);
        assert.notEqual(c.state, 'connected');
        assert.equal(nodeStatus(harness.engine, id).state, 'running');
        assert.equal(nodeStatus(harness.engine, id).counters.in, 0);
      }
      const errors = (id: string) => logs.find('mqtt error', { connection: id }).map((l) => String(l['error']));
      assert.ok(
        errors('noCa').some((e) => /certificate/i.test(e)),
        errors('noCa').join(' | '),
      );
      assert.ok(
        errors('otherCa').some((e) => /certificate/i.test(e)),
        errors('otherCa').join(' | '),
      );
      assert.ok(
        errors('wrongName').some((e) => /not-this-server\.example|altnames|host/i.test(e)),
        errors('wrongName').join(' | '),
      );
      assert.equal(logs.find('mqtt connected').length, 0);
    } finally {
      await publishAll(publisherTls, 'reject/probe', [''], 1, true);
      await harness.stop();
    }
  });

  it('authenticates with a client certificate (mutual TLS), also with an encrypted key', LIMIT, async () => {
    const url = serverMutual.tlsUrl as string;
    const harness = await startEngine(
      flowOf(
        url,
        [mqttIn('in', 'mtls/#', 'mtls'), mqttIn('pass', 'mtlspass/#', 'mtlsPass'), sink('store', 'mtls_rows')],
        [
          ['in', 'out', 'store'],
          ['pass', 'out', 'store'],
        ],
        {
          connections: [
            { id: 'mtls', url, tls: { ca: certs.caFile, cert: certs.clientCert, key: certs.clientKey } },
            {
              id: 'mtlsPass',
              url,
              tls: {
                ca: certs.caFile,
                cert: certs.clientCert,
                key: certs.clientKeyEncrypted,
                passphrase: '${env:KEY_PASSPHRASE}',
              },
            },
          ],
        },
      ),
      { env: { KEY_PASSPHRASE: certs.clientKeyPassphrase } },
    );
    try {
      assert.deepEqual(harness.result.failed, []);
      await waitFor(
        'both mutual-TLS connections up',
        () => {
          const all = harness.engine.status().connections;
          return all.length === 2 && all.every((c) => c.state === 'connected');
        },
        10_000,
      );
      await publishAll(publisherMutual, 'mtls/probe', ['1'], 1, true);
      await publishAll(publisherMutual, 'mtlspass/probe', ['2'], 1, true);
      await waitFor('both probes', () => count(harness, 'mtls_rows') === 2, 10_000);
      await publishAll(publisherMutual, 'mtls/live', ['3']);
      await waitFor('the live message', () => count(harness, 'mtls_rows') === 3, 10_000);
    } finally {
      await publishAll(publisherMutual, 'mtls/probe', [''], 1, true);
      await publishAll(publisherMutual, 'mtlspass/probe', [''], 1, true);
      await harness.stop();
    }
  });

  it('is refused by a broker that requires a client certificate when it has none', LIMIT, async () => {
    const url = serverMutual.tlsUrl as string;
    const logs = captureLogs();
    const harness = await startEngine(
      flowOf(url, [mqttIn('in', 'nocert/#'), sink('store', 'nocert_rows')], [['in', 'out', 'store']], {
        connections: [{ id: 'broker', url, tls: { ca: certs.caFile } }],
      }),
      { logger: logs.logger },
    );
    try {
      await waitFor('two failed attempts', () => logs.find('mqtt reconnect scheduled').length >= 2, 10_000);
      await publishAll(publisherMutual, 'nocert/x', ['1']);
      await sleep(500);
      assert.equal(count(harness, 'nocert_rows'), 0);
      assert.equal(onlyConnection(harness.engine).connects, 0);
      assert.equal(logs.find('mqtt connected').length, 0);
      assert.equal(nodeStatus(harness.engine, 'in').state, 'running');
    } finally {
      await harness.stop();
    }
  });

  it('fails only the node, with a clear error, when a TLS file cannot be read', LIMIT, async () => {
    const missing = `${dir.path}/does-not-exist.pem`;
    const url = serverTls.tlsUrl as string;
    const harness = await startEngine(
      flowOf(url, [mqttIn('in', 'x/#'), sink('store', 'missing_rows')], [['in', 'out', 'store']], {
        connections: [{ id: 'broker', url, tls: { ca: missing } }],
      }),
    );
    try {
      assert.equal(harness.result.failed.length, 1);
      assert.equal(harness.result.failed[0]?.node, 'in');
      assert.match(harness.result.failed[0]?.error ?? '', /cannot read TLS CA file .*does-not-exist\.pem/);
      assert.equal(nodeStatus(harness.engine, 'in').state, 'failed');
      assert.equal(nodeStatus(harness.engine, 'store').state, 'running');
      assert.deepEqual(harness.engine.status().connections, []);
    } finally {
      await harness.stop();
    }
  });
});
