import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, connect as netConnect } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { tempDir } from './paths.js';
import { waitFor } from './waitFor.js';

export interface Mosquitto {
  readonly port: number;
  readonly url: string;
  /** ws:// URL when started with `websockets: true`. */
  readonly wsUrl: string | undefined;
  /** mqtts:// URL when started with `tls`. */
  readonly tlsUrl: string | undefined;
  readonly output: () => string;
  stop(): Promise<void>;
}

export interface MosquittoOptions {
  readonly websockets?: boolean;
  readonly tls?: {
    readonly caFile: string;
    readonly certFile: string;
    readonly keyFile: string;
    readonly requireCertificate?: boolean;
  };
  readonly extraConfig?: string;
  /** Listen on this port instead of a free one: to start Mosquitto again where clients expect it. */
  readonly port?: number;
  /**
   * Keep sessions and queued messages in this directory (saved every second and on SIGTERM), so a
   * Mosquitto started again on it resumes them. The caller owns the directory.
   */
  readonly persistenceDir?: string;
}

const MOSQUITTO = process.env['MOSQUITTO_BIN'] ?? '/usr/sbin/mosquitto';

/** A free TCP port on 127.0.0.1 (bound then released; the race window is tiny on a test machine). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = netConnect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Starts a real Mosquitto on loopback with its own config in a temp dir; stop() kills it and cleans up. */
export async function startMosquitto(options: MosquittoOptions = {}): Promise<Mosquitto> {
  const dir = tempDir('topicflow-mosquitto-');
  const port = options.port ?? (await freePort());
  const wsPort = options.websockets ? await freePort() : undefined;
  const tlsPort = options.tls ? await freePort() : undefined;
  const lines = [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    ...(options.persistenceDir
      ? [
          'persistence true',
          `persistence_location ${join(options.persistenceDir, '/')}`,
          'autosave_interval 1',
          // Started as root, Mosquitto drops to user "mosquitto", who cannot write in a private temp
          // dir: stay the user who started it (the option does nothing for anyone else).
          `user ${userInfo().username}`,
        ]
      : ['persistence false']),
    'log_dest stdout',
    'log_type error',
    'log_type warning',
  ];
  if (wsPort) lines.push(`listener ${wsPort} 127.0.0.1`, 'protocol websockets');
  if (options.tls && tlsPort) {
    lines.push(
      `listener ${tlsPort} 127.0.0.1`,
      `cafile ${options.tls.caFile}`,
      `certfile ${options.tls.certFile}`,
      `keyfile ${options.tls.keyFile}`,
      `require_certificate ${options.tls.requireCertificate ? 'true' : 'false'}`,
    );
  }
  if (options.extraConfig) lines.push(options.extraConfig);
  const configFile = join(dir.path, 'mosquitto.conf');
  writeFileSync(configFile, `${lines.join('\n')}\n`);
  let output = '';
  const child: ChildProcess = spawn(MOSQUITTO, ['-c', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  let exited = false;
  child.once('exit', () => (exited = true));
  await waitFor(
    `mosquitto on port ${port}`,
    async () => {
      if (exited) throw new Error(`mosquitto exited: ${output}`);
      return (await portOpen(port)) && (!wsPort || (await portOpen(wsPort))) && (!tlsPort || (await portOpen(tlsPort)));
    },
    10_000,
  );
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    wsUrl: wsPort ? `ws://127.0.0.1:${wsPort}` : undefined,
    tlsUrl: tlsPort ? `mqtts://127.0.0.1:${tlsPort}` : undefined,
    output: () => output,
    async stop() {
      if (!exited) {
        const gone = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await gone;
      }
      dir.cleanup();
    },
  };
}
