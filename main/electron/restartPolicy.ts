/**
 * When to restart the engine's utility process after it died: at once the first time, then with
 * a doubling delay, and not at all past `maxRestarts` within `windowMs` (a flow that crashes the
 * engine on every start would otherwise spin forever); the app then shows an error instead.
 */
export interface RestartPolicyOptions {
  readonly maxRestarts?: number;
  readonly windowMs?: number;
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  /** Monotonic milliseconds (injectable for tests). */
  readonly now?: () => number;
}

export type RestartDecision =
  | { readonly restart: true; readonly delayMs: number; readonly attempt: number }
  | { readonly restart: false; readonly reason: string };

export class RestartPolicy {
  private readonly maxRestarts: number;
  private readonly windowMs: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly now: () => number;
  /** When each restart within the window was granted. */
  private restarts: number[] = [];

  constructor(options: RestartPolicyOptions = {}) {
    this.maxRestarts = options.maxRestarts ?? 5;
    this.windowMs = options.windowMs ?? 60_000;
    this.baseDelayMs = options.baseDelayMs ?? 250;
    this.maxDelayMs = options.maxDelayMs ?? 8_000;
    this.now = options.now ?? (() => performance.now());
  }

  /** Call on each unexpected exit: whether to restart, and after how long. */
  onDidExit(): RestartDecision {
    const now = this.now();
    this.restarts = this.restarts.filter((at) => now - at < this.windowMs);
    if (this.restarts.length >= this.maxRestarts) {
      return {
        restart: false,
        reason: `the engine stopped unexpectedly ${this.restarts.length + 1} times within ${Math.round(this.windowMs / 1000)} s`,
      };
    }
    this.restarts.push(now);
    const attempt = this.restarts.length;
    const delayMs = attempt === 1 ? 0 : Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 2));
    return { restart: true, delayMs, attempt };
  }

  /** Forget the history (the user asked for a restart after the error). */
  reset(): void {
    this.restarts = [];
  }
}
