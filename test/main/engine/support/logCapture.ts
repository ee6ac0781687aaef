import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Logger } from '../../../../main/engine/logger.js';

export interface LogLine {
  readonly level: number;
  readonly time: number;
  readonly msg: string;
  readonly [field: string]: unknown;
}

export interface LogCapture {
  readonly logger: Logger;
  /** Every line logged so far, parsed. */
  lines(): LogLine[];
  /** Lines whose message is exactly `msg` (and whose fields include `fields`, when given). */
  find(msg: string, fields?: Record<string, unknown>): LogLine[];
  /** All lines as text, for assertion messages. */
  dump(): string;
}

/** A pino logger at `info` writing JSON lines into memory. */
export function captureLogs(level = 'info'): LogCapture {
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      for (const line of chunk.toString().split('\n')) if (line.trim() !== '') raw.push(line);
      callback();
    },
  });
  const logger = pino({ level }, stream);
  const lines = (): LogLine[] => raw.map((l) => JSON.parse(l) as LogLine);
  return {
    logger,
    lines,
    find: (msg, fields = {}) =>
      lines().filter(
        (l) => l.msg === msg && Object.entries(fields).every(([k, v]) => JSON.stringify(l[k]) === JSON.stringify(v)),
      ),
    dump: () => raw.join('\n'),
  };
}
