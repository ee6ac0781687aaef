import type Database from 'better-sqlite3';
import { DeadLetterQueries, openDeadLetterDb, type DeadLetterRecord } from '../engine/store/deadLetters.js';

/** Helpers shared by the dead-letters subcommands (deadLettersCommand.ts, deadLettersReplay.ts). */

/** Bad arguments: exit 2 with the message. */
export class UsageError extends Error {}

export function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** `--id 3 --id 4` and `--id 3,4`. */
export function parseIds(values: readonly string[] | undefined): number[] | undefined {
  if (values === undefined || values.length === 0) return undefined;
  const ids: number[] = [];
  for (const value of values) {
    for (const part of value.split(',')) {
      const id = Number(part.trim());
      if (!/^\s*\d+\s*$/.test(part) || !Number.isSafeInteger(id) || id < 1) {
        throw new UsageError(`--id: "${part}" is not a dead-letter id (a positive integer)`);
      }
      ids.push(id);
    }
  }
  return ids;
}

export function parseInteger(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`${name}: "${value}" is not an integer from ${min} to ${max}`);
  }
  return n;
}

export function noPositionals(positionals: string[]): void {
  if (positionals.length > 0) {
    throw new UsageError(`unexpected argument "${positionals[0]}" (several ids are --id 3 --id 4 or --id 3,4)`);
  }
}

/** Control and bidirectional characters escaped, so a topic or reason cannot rewrite the terminal. */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

export function truncate(text: string, width: number): string {
  const chars = [...text];
  return chars.length <= width ? text : `${chars.slice(0, width - 1).join('')}…`;
}

export function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

export function truncated(d: DeadLetterRecord): boolean {
  return d.payloadSize !== null && d.payloadSize > d.storedSize;
}

/** A broker URL for messages, without its password. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url.replace(/\/\/([^/@:]*):[^/@]*@/, '//$1:***@');
  }
}

export function withStore<T>(
  dataDir: string,
  readonly: boolean,
  work: (queries: DeadLetterQueries, path: string) => T,
): T {
  const db: Database.Database = openDeadLetterDb(dataDir, { readonly });
  try {
    return work(new DeadLetterQueries(db), db.name);
  } finally {
    db.close();
  }
}
