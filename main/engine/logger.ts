import { pino, type Logger } from 'pino';

export type { Logger };

export interface LoggerOptions {
  readonly level?: string;
  /** Where JSON lines go; defaults to stdout (journald and container logs read it). */
  readonly destination?: NodeJS.WritableStream | number;
}

/** Structured JSON logs. Secrets never reach here: configs are logged before references resolve. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env['TOPICFLOW_LOG_LEVEL'] ?? 'info';
  const destination = options.destination ?? 1;
  const stream = typeof destination === 'number' ? pino.destination({ dest: destination, sync: true }) : destination;
  return pino({ level, base: { app: 'topicflow' }, timestamp: pino.stdTimeFunctions.isoTime }, stream);
}

/** A logger that drops everything, for tests and embedding. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/**
 * Lets through at most `limit` log lines per window and reports how many it held back, so a flood
 * of bad messages cannot flood the log (or the disk under it).
 */
export class LogThrottle {
  private count = 0;
  private suppressed = 0;
  private windowStart = 0;

  constructor(
    private readonly limit = 10,
    private readonly windowMs = 10_000,
  ) {}

  /** Returns true when this line may be logged; `report` receives the number held back. */
  allow(now: number, report: (suppressed: number) => void): boolean {
    if (now - this.windowStart >= this.windowMs) {
      if (this.suppressed > 0) report(this.suppressed);
      this.windowStart = now;
      this.count = 0;
      this.suppressed = 0;
    }
    if (this.count < this.limit) {
      this.count++;
      return true;
    }
    this.suppressed++;
    return false;
  }
}
