import { createServer, type AddressInfo, type Server } from 'node:net';
import { Aedes } from 'aedes';
import type { Logger } from '../logger.js';

/** Brokers started on a fixed port, shared by everyone in this process who asks for that port. */
const shared = new Map<number, Promise<EmbeddedBroker>>();

/**
 * The built-in broker (aedes, MQTT 3.1.1) on 127.0.0.1, so a flow runs with nothing installed.
 * It binds to loopback only: it has no authentication and is meant for one machine.
 *
 * One process may ask for the same fixed port twice (the topic explorer's default connection and
 * a deployed flow's `embedded` connection): both get the one broker, so the explorer sees what the
 * flow publishes, and it stops when the last of them stops. Port 0 always starts a new one.
 */
export class EmbeddedBroker {
  private users = 1;
  private stopped = false;

  private constructor(
    private readonly broker: Aedes,
    private readonly server: Server,
    readonly port: number,
    private readonly requestedPort: number,
  ) {}

  static async start(port: number, log: Logger): Promise<EmbeddedBroker> {
    if (port === 0) return EmbeddedBroker.listen(port, log);
    const existing = shared.get(port);
    if (existing) {
      const running = await existing;
      if (!running.stopped) {
        running.users++;
        log.info({ port, users: running.users }, 'embedded broker shared');
        return running;
      }
    }
    const starting = EmbeddedBroker.listen(port, log);
    shared.set(port, starting);
    starting.catch(() => {
      if (shared.get(port) === starting) shared.delete(port);
    });
    return starting;
  }

  private static async listen(port: number, log: Logger): Promise<EmbeddedBroker> {
    const broker = await Aedes.createBroker();
    const server = createServer(broker.handle);
    const listening = new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) => {
        reject(
          error.code === 'EADDRINUSE'
            ? new Error(
                `embedded broker: port ${port} on 127.0.0.1 is in use; pick another "embedded.port" (0 = any free port)`,
              )
            : error,
        );
      });
      server.listen(port, '127.0.0.1', () => resolve());
    });
    try {
      await listening;
    } catch (error) {
      // Otherwise the broker's heartbeat timer keeps the process alive after a failed start.
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      throw error;
    }
    const actual = (server.address() as AddressInfo).port;
    log.info({ port: actual, url: `mqtt://127.0.0.1:${actual}` }, 'embedded broker listening');
    return new EmbeddedBroker(broker, server, actual, port);
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    if (this.stopped || --this.users > 0) return;
    this.stopped = true;
    if (this.requestedPort !== 0) shared.delete(this.requestedPort);
    await new Promise<void>((resolve) => this.broker.close(() => resolve()));
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      // Clients still connected would hold close() open; aedes.close() has already ended them.
    });
  }
}
