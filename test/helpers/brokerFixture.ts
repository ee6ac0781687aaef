import { after, before } from 'node:test';
import type { MqttClient } from 'mqtt';
import { testClient } from './engineHarness.js';
import { startMosquitto, type Mosquitto } from './mosquitto.js';
import { tempDir } from './paths.js';

/** A Mosquitto, a test client on it and a temp dir for the calling suite (registers before/after). */
export function brokerFixture(): { readonly broker: Mosquitto; readonly client: MqttClient; readonly dir: string } {
  const tmp = tempDir();
  let broker: Mosquitto | undefined;
  let client: MqttClient | undefined;
  before(async () => {
    broker = await startMosquitto();
    client = await testClient(broker.url);
  });
  after(async () => {
    await client?.endAsync();
    await broker?.stop();
    tmp.cleanup();
  });
  return {
    get broker() {
      return broker as Mosquitto;
    },
    get client() {
      return client as MqttClient;
    },
    dir: tmp.path,
  };
}
