import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { connectAsync, type MqttClient } from 'mqtt';
import type { ExplorerConnectionConfig } from '../../../../shared/protocol/explorerProtocol.js';
import { silentLogger } from '../../../../main/engine/logger.js';
import { ExplorerConnection, maskUrlPassword } from '../../../../main/engine/explorer/explorerConnection.js';
import { HistoryBudget } from '../../../../main/engine/explorer/topicTree.js';
import { startMosquitto, type Mosquitto } from '../../../helpers/mosquitto.js';
import { tempDir } from '../../../helpers/paths.js';
import { waitFor } from '../../../helpers/waitFor.js';
import { generateTestCerts, opensslUnavailable, type TestCerts } from '../support/testCerts.js';

const noOpenssl = opensslUnavailable();

function open(config: ExplorerConnectionConfig, env: Record<string, string> = {}): ExplorerConnection {
  const connection = new ExplorerConnection(config, {
    log: silentLogger(),
    lookup: (name) => env[name],
    budget: new HistoryBudget(),
    onState: () => undefined,
  });
  void connection.start();
  return connection;
}

describe('explorer connections: transports, TLS, MQTT 3.1.1, overlapping filters', { skip: noOpenssl }, () => {
  const dir = tempDir('topicflow-explorer-tls-');
  let certs: TestCerts;
  let plain: Mosquitto;
  let mutual: Mosquitto;
  let publisher: MqttClient;
  let mutualPublisher: MqttClient;

  before(async () => {
    certs = generateTestCerts(dir.path);
    plain = await startMosquitto({ websockets: true });
    mutual = await startMosquitto({
      tls: { caFile: certs.caFile, certFile: certs.serverCert, keyFile: certs.serverKey, requireCertificate: true },
    });
    publisher = await connectAsync(plain.url, { protocolVersion: 5, reconnectPeriod: 0 });
    mutualPublisher = await connectAsync(mutual.tlsUrl as string, {
      protocolVersion: 5,
      reconnectPeriod: 0,
      ca: [readFileSync(certs.caFile)],
      cert: readFileSync(certs.clientCert),
      key: readFileSync(certs.clientKey),
    });
  });
  after(async () => {
    await publisher?.endAsync();
    await mutualPublisher?.endAsync();
    await plain?.stop();
    await mutual?.stop();
    dir.cleanup();
  });

  it('MQTT 3.1.1 over a WebSocket, and overlapping filters count each message once', async () => {
    const c = open({
      connection: { id: 'ws', url: plain.wsUrl as string, protocolVersion: 4 },
      filters: ['ws/#', 'ws/a', 'ws/+'],
      enabled: true,
    });
    try {
      await waitFor('connected', () => c.state === 'connected');
      await waitFor('subscribed', async () => {
        await publisher.publishAsync('ws/probe', 'p', { qos: 1 });
        return c.tree.get('ws/probe') !== undefined;
      });
      const before = c.tree.messages;
      for (let i = 0; i < 10; i++) await publisher.publishAsync('ws/a', String(i), { qos: 1 });
      await waitFor('ten more', () => c.tree.messages >= before + 10);
      await new Promise((resolve) => setTimeout(resolve, 200));
      // `ws/a` and `ws/+` are covered by `ws/#`: subscribed once, counted once.
      assert.equal(c.tree.get('ws/a')?.count, 10);
      assert.equal(c.protocolVersion, 4);
    } finally {
      await c.close();
    }
    assert.equal(c.state, 'closed');
  });

  it('MQTT 5 partial overlaps (a/+ and +/b) count once through subscription identifiers', async () => {
    const c = open({ connection: { id: 'v5', url: plain.url }, filters: ['ov/+', '+/b'], enabled: true });
    try {
      await waitFor('subscribed', async () => {
        await publisher.publishAsync('ov/probe', 'p', { qos: 1 });
        return c.tree.get('ov/probe') !== undefined;
      });
      const before = c.tree.messages;
      for (let i = 0; i < 5; i++) await publisher.publishAsync('ov/b', String(i), { qos: 1 });
      await waitFor('five more', () => c.tree.messages >= before + 5);
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(c.tree.get('ov/b')?.count, 5);
    } finally {
      await c.close();
    }
  });

  it('mutual TLS with an encrypted key whose passphrase is a reference; without a client certificate it does not connect', async () => {
    const url = mutual.tlsUrl as string;
    const good = open(
      {
        connection: {
          id: 'mtls',
          url,
          tls: {
            ca: certs.caFile,
            cert: certs.clientCert,
            key: certs.clientKeyEncrypted,
            passphrase: '${env:KEY_PASS}',
          },
        },
        filters: ['secure/#'],
        enabled: true,
      },
      { KEY_PASS: certs.clientKeyPassphrase },
    );
    const noCert = open({
      connection: { id: 'nocert', url, tls: { ca: certs.caFile } },
      filters: ['#'],
      enabled: true,
    });
    const missingFile = open({
      connection: { id: 'nofile', url, tls: { ca: `${dir.path}/missing.pem` } },
      filters: ['#'],
      enabled: true,
    });
    try {
      await waitFor('mTLS connected', () => good.state === 'connected', 10_000);
      await waitFor('a message through mTLS', async () => {
        await mutualPublisher.publishAsync('secure/x', 'hello', { qos: 1 });
        return good.tree.get('secure/x')?.count;
      });
      assert.equal(good.config.connection.tls?.passphrase, '${env:KEY_PASS}', 'the config keeps the reference');
      await waitFor('the refused one retries', () => noCert.state === 'reconnecting', 10_000);
      assert.equal(noCert.tree.messages, 0);
      await waitFor('the missing file fails', () => missingFile.state === 'failed');
      assert.match(missingFile.info().lastError ?? '', /cannot read TLS CA file .*missing\.pem/);
    } finally {
      await Promise.all([good.close(), noCert.close(), missingFile.close()]);
    }
  });

  it('a disabled connection stays closed', async () => {
    const c = open({ connection: { id: 'off', url: plain.url }, filters: ['#'], enabled: false });
    await c.start();
    assert.equal(c.state, 'closed');
    await c.close();
  });
});

describe('explorer connection URLs', () => {
  it('masks a password inside the URL the page and the log see', () => {
    assert.equal(maskUrlPassword('mqtt://user:s3cret@broker:1883'), 'mqtt://user:***@broker:1883');
    assert.equal(maskUrlPassword('wss://broker/mqtt'), 'wss://broker/mqtt');
    assert.equal(maskUrlPassword('mqtt://user@broker'), 'mqtt://user@broker');
  });
});
