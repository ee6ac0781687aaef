import { createServer, type AddressInfo, type Server } from 'node:net';
import { Aedes } from 'aedes';
import type { Logger } from '../logger.js';

/**
 * The built-in broker (aedes, MQTT 3.1.1) on 127.0.0.1, so a flow runs with nothing installed.
 * It binds to loopback only: it has no authentication and is meant for one machine.
 */
export class EmbeddedBroker {
  private constructor(
    private readonly broker: Aedes,
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(port: number, log: Logger): Promise<EmbeddedBroker> {
    const broker = await Aedes.createBroker();
    const server = createServer(broker.handle);
    await new Promise<void>((resolve, reject) => {
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
    const actual = (server.address() as AddressInfo).port;
    log.info({ port: actual, url: `mqtt://127.0.0.1:${actual}` }, 'embedded broker listening');
    return new EmbeddedBroker(broker, server, actual);
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.broker.close(() => resolve()));
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      // Clients still connected would hold close() open; aedes.close() has already ended them.
    });
  }
}
