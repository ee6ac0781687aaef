import type { EngineStatus, OutboxStatus } from '../engine/flowEngine.js';

export type HealthState = 'healthy' | 'degraded' | 'unhealthy';

export type HealthReasonCode =
  'store-failing' | 'node-failed' | 'disconnected' | 'outbox-full' | 'outbox-filling' | 'outbox-failing';

export interface HealthReason {
  readonly code: HealthReasonCode;
  /** What is wrong, for a person reading the probe's answer. */
  readonly detail: string;
  /** What this reason alone makes the engine. */
  readonly severity: Exclude<HealthState, 'healthy'>;
  /** The node or connection it is about. */
  readonly node?: string;
  readonly connection?: string;
}

export interface Health {
  readonly status: HealthState;
  /** Worst first. Empty when healthy. */
  readonly reasons: readonly HealthReason[];
}

export interface HealthOptions {
  /** Monotonic now, in ms (performance.now()); the clock of `downSinceMono`. */
  readonly now?: number;
  /** A connection down longer than this makes the engine unhealthy (default 60 s). */
  readonly disconnectedUnhealthyAfterMs?: number;
  /** An outbox this full (count or bytes) makes the engine degraded (default 0.8); full is unhealthy. */
  readonly outboxDegradedRatio?: number;
}

export const DISCONNECTED_UNHEALTHY_AFTER_MS = 60_000;
export const OUTBOX_DEGRADED_RATIO = 0.8;

/**
 * The health of a running engine, from its status alone (pure; `now` is the only clock).
 *
 * - The store is failing (writes error: disk full, read-only, ...): **unhealthy**; nothing can be
 *   acknowledged while it fails.
 * - A node is in state `failed` (it could not start): **unhealthy**.
 * - A connection is not connected (connecting, reconnecting, closed): **degraded**, and
 *   **unhealthy** once it has been down for `disconnectedUnhealthyAfterMs` (60 s) or longer.
 *   A connection that never connected counts as down since it was opened.
 * - An outbox holds ≥ 80 % of its maximum count or bytes: **degraded** (`outbox-filling`);
 *   ≥ 100 %: **unhealthy** (`outbox-full`, it is evicting).
 * - An outbox's last attempt failed (target unreachable or answering 5xx): **degraded**.
 *
 * The worst reason decides; no reason at all is **healthy**.
 */
export function healthOf(status: EngineStatus, options: HealthOptions = {}): Health {
  const now = options.now ?? performance.now();
  const downLimit = options.disconnectedUnhealthyAfterMs ?? DISCONNECTED_UNHEALTHY_AFTER_MS;
  const fillLimit = options.outboxDegradedRatio ?? OUTBOX_DEGRADED_RATIO;
  const reasons: HealthReason[] = [];

  if (status.store.state === 'failing') {
    const since =
      status.store.failingSinceMono !== undefined ? ` for ${seconds(now - status.store.failingSinceMono)}` : '';
    reasons.push({
      code: 'store-failing',
      severity: 'unhealthy',
      detail: `the store has been failing${since}: ${status.store.error ?? 'unknown error'}`,
    });
  }

  for (const node of status.nodes) {
    if (node.state === 'failed') {
      reasons.push({
        code: 'node-failed',
        severity: 'unhealthy',
        node: node.id,
        detail: `node "${node.id}" (${node.type}) failed: ${node.error ?? 'unknown error'}`,
      });
    }
  }

  for (const connection of status.connections) {
    if (connection.state === 'connected') continue;
    const downFor = connection.downSinceMono !== undefined ? Math.max(0, now - connection.downSinceMono) : 0;
    const error = connection.lastError ? `: ${connection.lastError}` : '';
    reasons.push({
      code: 'disconnected',
      severity: downFor >= downLimit ? 'unhealthy' : 'degraded',
      connection: connection.id,
      detail: `connection "${connection.id}" (${urlWithoutCredentials(connection.url)}) is ${connection.state}, down for ${seconds(downFor)}${error}`,
    });
  }

  for (const node of status.nodes) {
    const outbox = node.outbox;
    if (!outbox) continue;
    const fill = outboxFill(outbox);
    if (fill >= 1) {
      reasons.push({
        code: 'outbox-full',
        severity: 'unhealthy',
        node: node.id,
        detail: `outbox of node "${node.id}" is full (${describeFill(outbox)})`,
      });
    } else if (fill >= fillLimit) {
      reasons.push({
        code: 'outbox-filling',
        severity: 'degraded',
        node: node.id,
        detail: `outbox of node "${node.id}" is ${Math.floor(fill * 100)} % full (${describeFill(outbox)})`,
      });
    }
    if (outbox.failing) {
      reasons.push({
        code: 'outbox-failing',
        severity: 'degraded',
        node: node.id,
        detail: `node "${node.id}" cannot deliver from its outbox: ${outbox.lastError ?? 'unknown error'}`,
      });
    }
  }

  const unhealthy = reasons.filter((r) => r.severity === 'unhealthy');
  const degraded = reasons.filter((r) => r.severity === 'degraded');
  return {
    status: unhealthy.length > 0 ? 'unhealthy' : degraded.length > 0 ? 'degraded' : 'healthy',
    reasons: [...unhealthy, ...degraded],
  };
}

/** How full an outbox is: the larger of its count and bytes ratios (a maximum of 0 means none). */
export function outboxFill(outbox: OutboxStatus): number {
  const byCount = outbox.maxCount > 0 ? outbox.depth / outbox.maxCount : 0;
  const byBytes = outbox.maxBytes > 0 ? outbox.bytes / outbox.maxBytes : 0;
  return Math.max(byCount, byBytes);
}

function describeFill(outbox: OutboxStatus): string {
  return `${outbox.depth}/${outbox.maxCount} messages, ${outbox.bytes}/${outbox.maxBytes} bytes`;
}

function seconds(ms: number): string {
  return `${Math.round(ms / 1000)} s`;
}

/** A broker URL fit for logs, probes and metric labels: any user name and password removed. */
export function urlWithoutCredentials(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.username === '' && parsed.password === '') return url;
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/]*@/i, '$1');
  }
}
