import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import mqtt from 'mqtt';
import { silentLogger } from '../../../../main/engine/logger.js';
import { EmbeddedBroker } from '../../../../main/engine/mqtt/embeddedBroker.js';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function accepts(url: string): Promise<boolean> {
  const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 2000 });
  return new Promise<boolean>((resolve) => {
    client.once('connect', () => {
      client.end(true);
      resolve(true);
    });
    client.once('error', () => {
      client.end(true);
      resolve(false);
    });
    client.once('close', () => resolve(false));
  });
}

describe('EmbeddedBroker', () => {
  it('shares one broker between two users of the same fixed port, until the last one stops', async () => {
    const port = await freePort();
    const log = silentLogger();
    const first = await EmbeddedBroker.start(port, log);
    const second = await EmbeddedBroker.start(port, log);
    assert.equal(second, first, 'the second start reuses the running broker instead of failing on the port');
    await first.stop();
    assert.equal(await accepts(first.url), true, 'still serving while one user remains');
    await second.stop();
    assert.equal(await accepts(first.url), false, 'closed after the last user stopped');
    // The port can be taken again afterwards, by a fresh broker.
    const third = await EmbeddedBroker.start(port, log);
    assert.notEqual(third, first);
    assert.equal(await accepts(third.url), true);
    await third.stop();
  });

  it('starts a separate broker for every port-0 request', async () => {
    const log = silentLogger();
    const a = await EmbeddedBroker.start(0, log);
    const b = await EmbeddedBroker.start(0, log);
    try {
      assert.notEqual(a.port, b.port);
    } finally {
      await a.stop();
      await b.stop();
    }
  });
});
