import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { silentLogger, type Logger } from '../engine/logger.js';
import { healthOf, type HealthOptions } from './health.js';
import { createMetrics, type MetricsOptions, type StatusSource } from './metrics.js';

export interface ObservabilityOptions {
  /** Address to bind; 127.0.0.1 unless given (the CLI refuses a public one without --http-public). */
  readonly host?: string;
  /** 0 picks a free port (see `url`). */
  readonly port: number;
  readonly logger?: Logger;
  readonly health?: HealthOptions;
  readonly processMetrics?: MetricsOptions['processMetrics'];
}

export interface ObservabilityServer {
  /** Where it listens, as http://host:port (the actual port when 0 was asked for). */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves GET /health (JSON `{status, reasons, flow, revision}`; 200 when healthy or degraded, 503
 * when unhealthy) and GET /metrics (Prometheus text format 0.0.4). HEAD works on both; any other
 * method is 405, any other path 404. Whoever stops the engine closes it (the CLI: after the drain,
 * so the drain itself can be watched).
 */
export async function startObservabilityServer(
  engine: StatusSource,
  options: ObservabilityOptions,
): Promise<ObservabilityServer> {
  const log = options.logger ?? silentLogger();
  const healthOptions = options.health ?? {};
  // The same health options for /health and topicflow_health_status, so both always agree.
  const metrics = createMetrics(engine, {
    health: healthOptions,
    ...(options.processMetrics !== undefined ? { processMetrics: options.processMetrics } : {}),
  });

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const path = (request.url ?? '/').split('?')[0];
    const head = request.method === 'HEAD';
    if (path !== '/health' && path !== '/metrics') {
      return send(response, 404, 'text/plain; charset=utf-8', 'not found: try /health or /metrics\n', head);
    }
    if (request.method !== 'GET' && !head) {
      response.setHeader('allow', 'GET, HEAD');
      return send(response, 405, 'text/plain; charset=utf-8', 'method not allowed: GET or HEAD\n', head);
    }
    if (path === '/health') {
      const status = engine.status();
      const health = healthOf(status, healthOptions);
      const body = JSON.stringify({
        status: health.status,
        reasons: health.reasons,
        flow: status.flow ?? null,
        revision: status.revision ?? null,
      });
      return send(response, health.status === 'unhealthy' ? 503 : 200, 'application/json', `${body}\n`, head);
    }
    return send(response, 200, metrics.contentType, await metrics.render(), head);
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      log.error({ err: error, path: request.url }, 'observability request failed');
      if (!response.headersSent) send(response, 500, 'text/plain; charset=utf-8', 'internal error\n', false);
      else response.destroy();
    });
  });
  // Probes are small and frequent: do not let idle keep-alive sockets hold close() up.
  server.keepAliveTimeout = 5000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (error) => log.error({ err: error }, 'observability server error'));
  const address = server.address() as AddressInfo;
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  log.info({ url, endpoints: ['/health', '/metrics'] }, 'observability listening');

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
      // A request still running gets a second; then its socket goes too.
      setTimeout(() => server.closeAllConnections(), 1000).unref();
    }).then(() => log.info({ url }, 'observability closed'));
    return closing;
  };
  return { url, close };
}

function send(response: ServerResponse, code: number, type: string, body: string, head: boolean): void {
  response.writeHead(code, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  response.end(head ? undefined : body);
}
