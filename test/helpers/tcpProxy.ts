import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A loopback TCP proxy in front of a server (a broker), whose link can be cut the way a dead
 * cellular link fails: nothing is closed or reset, bytes just stop arriving, so each side finds
 * out only through its own timers (MQTT keepalive, connect timeout).
 */
export interface TcpProxy {
  readonly port: number;
  /** `mqtt://127.0.0.1:<port>`. */
  readonly url: string;
  /** Connections accepted so far (while cut too). */
  readonly accepted: number;
  /** Black hole: open sockets stay open but no byte passes either way; new connections are accepted and ignored. */
  cut(): void;
  /** Destroys every socket the cut swallowed, then forwards again (new connections only). */
  restore(): void;
  close(): Promise<void>;
}

interface Pair {
  readonly client: Socket;
  upstream: Socket | undefined;
  /** Set by cut(): nothing passes any more, and restore() destroys it. */
  swallowed: boolean;
}

/** Starts a proxy on a free 127.0.0.1 port forwarding to `targetHost:targetPort`. */
export async function startTcpProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  const pairs = new Set<Pair>();
  let cut = false;
  let accepted = 0;

  const destroy = (pair: Pair): void => {
    pairs.delete(pair);
    pair.client.destroy();
    pair.upstream?.destroy();
  };

  /** Copies `from` into `to` while the pair is not swallowed, with backpressure. */
  const forward = (pair: Pair, from: Socket, to: Socket): void => {
    from.on('data', (chunk: Buffer) => {
      if (pair.swallowed) return;
      if (!to.write(chunk)) {
        from.pause();
        to.once('drain', () => from.resume());
      }
    });
    from.on('end', () => {
      if (!pair.swallowed) to.end();
    });
    // A reset on one side is passed on as a close (unless swallowed: a dead link tells nobody).
    from.on('close', () => {
      if (!pair.swallowed) destroy(pair);
    });
  };

  const server: Server = createServer((client) => {
    accepted++;
    const pair: Pair = { client, upstream: undefined, swallowed: cut };
    pairs.add(pair);
    client.on('error', () => undefined);
    if (cut) {
      // Accepted (the SYN of a dead link may still be answered by something), never answered.
      client.on('data', () => undefined);
      return;
    }
    client.pause();
    const upstream = connect(targetPort, targetHost);
    pair.upstream = upstream;
    upstream.on('error', () => undefined);
    upstream.once('connect', () => {
      forward(pair, client, upstream);
      forward(pair, upstream, client);
      client.resume();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    get accepted() {
      return accepted;
    },
    cut() {
      cut = true;
      for (const pair of pairs) {
        pair.swallowed = true;
        // Keep reading and discarding, so neither sender is held back by a full socket buffer.
        pair.client.resume();
        pair.upstream?.resume();
      }
    },
    restore() {
      cut = false;
      for (const pair of [...pairs]) if (pair.swallowed) destroy(pair);
    },
    async close() {
      for (const pair of [...pairs]) destroy(pair);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
