import type { Mosquitto } from '../../../helpers/mosquitto.js';

/** Fixtures shared by the connection tests. */
/** A backstop: every wait inside a test has its own, shorter bound. */
export const LIMIT = { timeout: 30_000 };

export const mqttIn = (id: string, topic: string, connection = 'broker', extra: Record<string, unknown> = {}) => ({
  id,
  type: 'mqtt-in',
  config: { connection, topic, qos: 1, ...extra },
});
export const sink = (id: string, table: string) => ({ id, type: 'sqlite-sink', config: { table } });

/**
 * Mosquitto's log lines for connects of one client id. A line may appear twice in the output (it
 * logs to stdout and stderr); distinct connects differ in timestamp or source port.
 */
export function connectsOf(mosquitto: Mosquitto, clientId: string): string[] {
  const pattern = new RegExp(`^\\d+: New client connected from \\S+ as ${clientId} \\(.*$`, 'gm');
  return [...new Set(mosquitto.output().match(pattern) ?? [])];
}

/** Stops whatever was started, in reverse, even when some of it fails. */
export class Cleanup {
  private readonly steps: (() => Promise<unknown> | unknown)[] = [];
  add(step: () => Promise<unknown> | unknown): void {
    this.steps.push(step);
  }
  async run(): Promise<void> {
    const errors: unknown[] = [];
    for (const step of this.steps.splice(0).reverse()) {
      try {
        await step();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length > 0) throw errors[0];
  }
}
