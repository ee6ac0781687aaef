import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, resolve, sep } from 'node:path';
import { silentLogger, type Logger } from '../engine/logger.js';
import type { EngineService } from './engineService.js';
import { createWsTransport, type WsTransport } from './wsTransport.js';

export const API_PATH = '/api';

export interface EditorServerOptions {
  readonly host: string;
  /** 0 picks a free port (see `url`). */
  readonly port: number;
  /** Folder of the built renderer; when it does not exist, `/` says the renderer is not built yet. */
  readonly rendererDir: string;
  readonly token?: string | undefined;
  readonly logger?: Logger;
}

export interface EditorServer {
  /** http://host:port/ (the actual port when 0 was asked for). */
  readonly url: string;
  readonly transport: WsTransport;
  close(): Promise<void>;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
};

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>TopicFlow</title></head>
<body><h1>TopicFlow</h1>
<p>The editor (renderer) is not built yet. The engine protocol is served over a WebSocket at
<code>${API_PATH}</code>.</p></body></html>
`;

/** The HTTP server of `topicflow serve`: the protocol's WebSocket at /api and the renderer's static files. */
export async function startEditorServer(service: EngineService, options: EditorServerOptions): Promise<EditorServer> {
  const log = options.logger ?? silentLogger();
  const root = resolve(options.rendererDir);
  const transport = createWsTransport(service, { token: options.token, logger: log });

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const head = request.method === 'HEAD';
    if (request.method !== 'GET' && !head) {
      response.setHeader('allow', 'GET, HEAD');
      return send(response, 405, 'text/plain; charset=utf-8', 'method not allowed: GET or HEAD\n', head);
    }
    let path: string;
    try {
      path = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
    } catch {
      return send(response, 400, 'text/plain; charset=utf-8', 'bad path\n', head);
    }
    if (path === API_PATH) {
      return send(response, 426, 'text/plain; charset=utf-8', `${API_PATH} is a WebSocket\n`, head);
    }
    const rootInfo = await stat(root).catch(() => undefined);
    if (!rootInfo?.isDirectory()) {
      if (path === '/' || path === '/index.html')
        return send(response, 200, 'text/html; charset=utf-8', NOT_BUILT, head);
      return send(response, 404, 'text/plain; charset=utf-8', 'not found\n', head);
    }
    const file = resolve(root, `.${path.endsWith('/') ? `${path}index.html` : path}`);
    if (file !== root && !file.startsWith(`${root}${sep}`)) {
      return send(response, 404, 'text/plain; charset=utf-8', 'not found\n', head);
    }
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) return send(response, 404, 'text/plain; charset=utf-8', 'not found\n', head);
    response.writeHead(200, {
      'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
      'content-length': info.size,
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
    });
    if (head) response.end();
    else createReadStream(file).pipe(response);
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      log.error({ err: error, path: request.url }, 'editor request failed');
      if (!response.headersSent) send(response, 500, 'text/plain; charset=utf-8', 'internal error\n', false);
      else response.destroy();
    });
  });
  server.on('upgrade', (request: IncomingMessage, socket, head: Buffer) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (path !== API_PATH) {
      socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    transport.handleUpgrade(request, socket, head);
  });

  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolvePromise();
    });
  });
  server.on('error', (error) => log.error({ err: error }, 'editor server error'));
  const address = server.address() as AddressInfo;
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}/`;

  let closing: Promise<void> | undefined;
  return {
    url,
    transport,
    close: () =>
      (closing ??= transport.close().then(
        () =>
          new Promise<void>((resolvePromise) => {
            server.close(() => resolvePromise());
            server.closeIdleConnections();
            setTimeout(() => server.closeAllConnections(), 1000).unref();
          }),
      )),
  };
}

function send(response: ServerResponse, code: number, type: string, body: string, head: boolean): void {
  response.writeHead(code, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  response.end(head ? undefined : body);
}
