import { isUtf8 } from 'node:buffer';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import type Database from 'better-sqlite3';
import {
  DEFAULT_PAGE_SIZE,
  DeadLetterQueries,
  MAX_PAGE_SIZE,
  openDeadLetterDb,
  type DeadLetterFilter,
  type DeadLetterRecord,
} from '../engine/store/deadLetters.js';
import { DEAD_LETTER_MAX_BYTES } from '../engine/store/store.js';

export const DEAD_LETTERS_USAGE = `Usage:
  topicflow dead-letters list [--data-dir DIR] [--node ID] [--reason TEXT] [--limit N] [--before-id N] [--since-id N] [--json]
      Newest first: a table (id, time, node, topic, size, replayed, reason), or with --json one JSON
      object per line with the payload as base64 (and as text when it is valid UTF-8).
  topicflow dead-letters replay --url mqtt://host:port (--id N... | --node ID | --all) [--include-replayed]
                                [--data-dir DIR] [--username U] [--password-env VAR] [--protocol-version 4|5] [--timeout MS]
      Publishes each dead letter's original bytes to its original topic and QoS (QoS 0 as QoS 1), oldest
      first, and marks it replayed once the broker acknowledged it. --node and --all skip those already
      replayed unless --include-replayed. Exit 0 when every one was replayed, 1 otherwise.
  topicflow dead-letters purge [--data-dir DIR] (--all | --node ID | --id N... | --replayed | --older-than DAYS)
      Deletes the dead letters matching every filter given (or all of them with --all); prints how many.
`;

/** Bad arguments: exit 2 with the message. */
class UsageError extends Error {}

/** Publishes in flight at once while replaying (Mosquitto's default max_inflight_messages is 20). */
const REPLAY_WINDOW = 10;
const TOPIC_WIDTH = 48;
const REASON_WIDTH = 72;

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** `--id 3 --id 4` and `--id 3,4`. */
function parseIds(values: readonly string[] | undefined): number[] | undefined {
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

function parseInteger(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`${name}: "${value}" is not an integer from ${min} to ${max}`);
  }
  return n;
}

function noPositionals(positionals: string[]): void {
  if (positionals.length > 0) {
    throw new UsageError(`unexpected argument "${positionals[0]}" (several ids are --id 3 --id 4 or --id 3,4)`);
  }
}

/** Control and bidirectional characters escaped, so a topic or reason cannot rewrite the terminal. */
function printable(text: string): string {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

function truncate(text: string, width: number): string {
  const chars = [...text];
  return chars.length <= width ? text : `${chars.slice(0, width - 1).join('')}…`;
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

function truncated(d: DeadLetterRecord): boolean {
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

function withStore<T>(dataDir: string, readonly: boolean, work: (queries: DeadLetterQueries, path: string) => T): T {
  const db: Database.Database = openDeadLetterDb(dataDir, { readonly });
  try {
    return work(new DeadLetterQueries(db), db.name);
  } finally {
    db.close();
  }
}

function listCommand(args: string[]): number {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      'data-dir': { type: 'string', default: 'data' },
      node: { type: 'string' },
      reason: { type: 'string' },
      limit: { type: 'string' },
      'before-id': { type: 'string' },
      'since-id': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  noPositionals(positionals);
  const filter: DeadLetterFilter = {
    node: values.node,
    reason: values.reason,
    beforeId: parseInteger('--before-id', values['before-id'], 1, Number.MAX_SAFE_INTEGER),
    sinceId: parseInteger('--since-id', values['since-id'], 0, Number.MAX_SAFE_INTEGER),
  };
  const limit = parseInteger('--limit', values.limit, 1, MAX_PAGE_SIZE) ?? DEFAULT_PAGE_SIZE;
  return withStore(resolve(values['data-dir']), true, (queries, path) => {
    if (values.json) {
      for (const d of queries.list({ ...filter, limit })) out(JSON.stringify(jsonLine(d)));
      return 0;
    }
    const rows = queries.list({ ...filter, limit, payload: false });
    const total = queries.count(filter);
    if (rows.length === 0) {
      out(total === 0 && queries.count() === 0 ? `no dead letters in ${path}` : 'no dead letters match');
      return 0;
    }
    const table = [
      ['ID', 'TIME', 'NODE', 'TOPIC', 'SIZE', 'REPLAYED', 'REASON'],
      ...rows.map((d) => [
        String(d.id),
        iso(d.at) ?? '',
        truncate(printable(d.node), 32),
        d.topic === null ? '-' : truncate(printable(d.topic), TOPIC_WIDTH),
        d.payloadSize === null ? '-' : `${d.payloadSize}${truncated(d) ? '*' : ''}`,
        d.replayedAt === null ? '-' : 'yes',
        truncate(printable(d.reason), REASON_WIDTH),
      ]),
    ];
    const widths = (table[0] as string[]).map((_, i) => Math.max(...table.map((r) => [...(r[i] as string)].length)));
    for (const row of table) {
      out(
        row
          .map((cell, i) =>
            i === row.length - 1 ? cell : cell.padEnd((widths[i] as number) + cell.length - [...cell].length),
          )
          .join('  ')
          .trimEnd(),
      );
    }
    if (rows.some(truncated)) out(`* payload larger than the ${DEAD_LETTER_MAX_BYTES} bytes kept`);
    const last = rows[rows.length - 1] as DeadLetterRecord;
    out(
      rows.length < total
        ? `${rows.length} of ${total} dead letters (newest first); next page: --before-id ${last.id}`
        : `${total} dead letter${total === 1 ? '' : 's'}`,
    );
    return 0;
  });
}

function jsonLine(d: DeadLetterRecord): Record<string, unknown> {
  const line: Record<string, unknown> = {
    id: d.id,
    time: iso(d.at),
    at: d.at,
    seq: d.seq,
    flow: d.flow,
    revision: d.revision,
    node: d.node,
    reason: d.reason,
    topic: d.topic,
    qos: d.qos,
    size: d.payloadSize,
    truncated: truncated(d),
    replayedAt: iso(d.replayedAt),
    payload: d.payload === null ? null : d.payload.toString('base64'),
  };
  if (d.payload !== null && isUtf8(d.payload)) line['text'] = d.payload.toString('utf8');
  return line;
}

function purgeCommand(args: string[]): number {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      'data-dir': { type: 'string', default: 'data' },
      all: { type: 'boolean', default: false },
      node: { type: 'string' },
      id: { type: 'string', multiple: true },
      replayed: { type: 'boolean', default: false },
      'older-than': { type: 'string' },
    },
  });
  noPositionals(positionals);
  const ids = parseIds(values.id);
  let before: number | undefined;
  if (values['older-than'] !== undefined) {
    const days = Number(values['older-than']);
    if (values['older-than'].trim() === '' || !Number.isFinite(days) || days < 0) {
      throw new UsageError(`--older-than: "${values['older-than']}" is not a number of days`);
    }
    before = Date.now() - days * 86_400_000;
  }
  const filtered = values.node !== undefined || ids !== undefined || values.replayed || before !== undefined;
  if (values.all && filtered) throw new UsageError('--all deletes every dead letter: give it alone, or only filters');
  if (!values.all && !filtered) {
    throw new UsageError('say what to purge: --all, --node ID, --id N, --replayed or --older-than DAYS');
  }
  return withStore(resolve(values['data-dir']), false, (queries, path) => {
    const n = queries.purge(
      values.all ? { all: true } : { node: values.node, ids, replayed: values.replayed ? true : undefined, before },
    );
    out(`purged ${n} dead letter${n === 1 ? '' : 's'} from ${path}`);
    return 0;
  });
}

/** Connects once (no retries): resolves on CONNACK, rejects on an error, a close or `timeoutMs`. */
function connectOnce(url: string, options: IClientOptions, timeoutMs: number): Promise<MqttClient> {
  return new Promise((resolvePromise, reject) => {
    // mqtt.js's own CONNACK timer runs a little longer, so the message below is the one reported.
    const client = connect(url, { ...options, reconnectPeriod: 0, connectTimeout: timeoutMs + 1000, clean: true });
    // A later error (after the connection) must not crash the process: publishes report it.
    client.on('error', () => undefined);
    const settle = (error?: Error): void => {
      clearTimeout(timer);
      client.off('connect', onConnect);
      client.off('error', onError);
      client.off('close', onClose);
      if (error) {
        client.end(true);
        reject(error);
      } else resolvePromise(client);
    };
    const onConnect = (): void => settle();
    const onError = (error: Error): void => settle(error);
    const onClose = (): void => settle(new Error('the connection closed before the broker answered'));
    const timer = setTimeout(() => settle(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    client.once('connect', onConnect);
    client.once('error', onError);
    client.once('close', onClose);
  });
}

function publishAcknowledged(
  client: MqttClient,
  topic: string,
  payload: Buffer,
  qos: 1 | 2,
  timeoutMs: number,
): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no acknowledgement from the broker within ${timeoutMs} ms`)),
      timeoutMs,
    );
    client.publish(topic, payload, { qos, retain: false }, (error) => {
      clearTimeout(timer);
      if (error) reject(error);
      else resolvePromise();
    });
  });
}

/** Why a dead letter cannot be replayed as it was received, or undefined when it can. */
function unreplayable(d: DeadLetterRecord): string | undefined {
  if (d.topic === null || d.topic === '') return 'no topic';
  if (d.payload === null) return 'no payload';
  if (d.payload.length === 0) return 'empty payload';
  if (truncated(d)) return `payload truncated (${d.storedSize} of ${String(d.payloadSize)} bytes kept)`;
  return undefined;
}

async function replayCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      'data-dir': { type: 'string', default: 'data' },
      url: { type: 'string' },
      id: { type: 'string', multiple: true },
      node: { type: 'string' },
      all: { type: 'boolean', default: false },
      'include-replayed': { type: 'boolean', default: false },
      username: { type: 'string' },
      'password-env': { type: 'string' },
      'protocol-version': { type: 'string', default: '4' },
      timeout: { type: 'string', default: '5000' },
    },
  });
  noPositionals(positionals);
  const ids = parseIds(values.id);
  if (!values.all && ids === undefined && values.node === undefined) {
    throw new UsageError('nothing selected: name the dead letters to replay with --id N, --node ID or --all');
  }
  if (values.all && (ids !== undefined || values.node !== undefined)) {
    throw new UsageError('--all replays every dead letter: give it without --id or --node');
  }
  const url = values.url;
  if (url === undefined) throw new UsageError('--url is required (the broker to publish to, mqtt://host:port)');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--url: "${redactUrl(url)}" is not a URL (mqtt://host:port)`);
  }
  if (!['mqtt:', 'mqtts:', 'tcp:', 'ssl:', 'ws:', 'wss:'].includes(parsed.protocol)) {
    throw new UsageError(`--url: "${redactUrl(url)}" is not an MQTT URL (mqtt://, mqtts://, ws://, wss://)`);
  }
  const protocolVersion = parseInteger('--protocol-version', values['protocol-version'], 4, 5) as 4 | 5;
  const timeoutMs = parseInteger('--timeout', values.timeout, 100, 600_000) as number;
  const options: IClientOptions = { protocolVersion };
  if (values.username !== undefined) options.username = values.username;
  const passwordEnv = values['password-env'];
  if (passwordEnv !== undefined) {
    const password = process.env[passwordEnv];
    if (password === undefined)
      throw new UsageError(`--password-env: the environment variable ${passwordEnv} is not set`);
    if (values.username === undefined && !parsed.username) {
      throw new UsageError('--password-env needs --username (MQTT sends no password without a user name)');
    }
    options.password = password;
  }
  const shownUrl = redactUrl(url);

  const dataDir = resolve(values['data-dir']);
  const db = openDeadLetterDb(dataDir);
  const queries = new DeadLetterQueries(db);
  let client: MqttClient | undefined;
  try {
    // The selection, as pages read one at a time (payloads are up to 1 MiB each).
    let notFound = 0;
    let pages: Generator<DeadLetterRecord[]>;
    let selected: number;
    if (ids !== undefined) {
      const unique = [...new Set(ids)].sort((a, b) => a - b);
      const found = new Set<number>();
      for (let i = 0; i < unique.length; i += MAX_PAGE_SIZE) {
        const chunk = unique.slice(i, i + MAX_PAGE_SIZE);
        for (const d of queries.list({ ids: chunk, node: values.node, payload: false, limit: chunk.length })) {
          found.add(d.id);
        }
      }
      for (const id of unique) {
        if (!found.has(id)) {
          notFound++;
          out(
            `failed ${id}: no dead letter with this id${values.node === undefined ? '' : ` from node "${values.node}"`}`,
          );
        }
      }
      const wanted = unique.filter((id) => found.has(id));
      selected = wanted.length;
      pages = (function* () {
        for (let i = 0; i < wanted.length; i += DEFAULT_PAGE_SIZE)
          yield queries.get(wanted.slice(i, i + DEFAULT_PAGE_SIZE));
      })();
    } else {
      // Only what is there now: replayed messages the flow refuses again come back as new dead letters.
      const maxId = (db.prepare('SELECT coalesce(max(id), 0) AS id FROM tf_dead_letters').get() as { id: number }).id;
      const filter: DeadLetterFilter = {
        node: values.node,
        replayed: values['include-replayed'] ? undefined : false,
        beforeId: maxId + 1,
      };
      selected = queries.count(filter);
      if (selected === 0) {
        if (values.node !== undefined && queries.count({ node: values.node }) === 0) {
          process.stderr.write(
            `topicflow dead-letters replay: no dead letters from node "${values.node}" in ${db.name}\n`,
          );
          return 1;
        }
        const replayed = queries.count({ ...filter, replayed: true });
        out(
          replayed > 0
            ? `nothing to replay: the ${replayed} selected dead letter(s) were replayed already (--include-replayed replays them again)`
            : `nothing to replay: no dead letters in ${db.name}`,
        );
        return 0;
      }
      pages = (function* () {
        let sinceId = 0;
        for (;;) {
          const page = queries.list({ ...filter, sinceId, order: 'id', limit: DEFAULT_PAGE_SIZE });
          if (page.length === 0) return;
          sinceId = (page[page.length - 1] as DeadLetterRecord).id;
          yield page;
        }
      })();
    }
    if (selected === 0) {
      process.stderr.write(`topicflow dead-letters replay: none of the given ids is in ${db.name}\n`);
      return 1;
    }

    try {
      client = await connectOnce(url, options, timeoutMs);
    } catch (error) {
      process.stderr.write(
        `topicflow dead-letters replay: cannot reach the broker at ${shownUrl}: ${error instanceof Error ? error.message : String(error)}; nothing replayed\n`,
      );
      return 1;
    }
    const connected = client;

    let replayed = 0;
    let skipped = 0;
    let failed = 0;
    let attempted = 0;
    for (const page of pages) {
      const lines: string[] = new Array<string>(page.length);
      const acknowledged: number[] = [];
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < page.length) {
          const index = next++;
          const d = page[index] as DeadLetterRecord;
          const why = unreplayable(d);
          if (why !== undefined) {
            skipped++;
            lines[index] = `skipped ${d.id}: ${why}`;
            continue;
          }
          if (!connected.connected) {
            failed++;
            lines[index] = `failed ${d.id}: the connection to the broker was lost`;
            continue;
          }
          const qos = d.qos === 2 ? 2 : 1;
          try {
            await publishAcknowledged(connected, d.topic as string, d.payload as Buffer, qos, timeoutMs);
            acknowledged.push(d.id);
            lines[index] = `replayed ${d.id}: ${printable(d.topic as string)} (${d.storedSize} bytes, QoS ${qos})`;
          } catch (error) {
            failed++;
            lines[index] = `failed ${d.id}: ${error instanceof Error ? error.message : String(error)}`;
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(REPLAY_WINDOW, page.length) }, worker));
      attempted += page.length;
      // Only now, after the broker's acknowledgements: a crash before this replays them again, never loses one.
      replayed += queries.markReplayed(acknowledged);
      for (const line of lines) out(line);
      if (!connected.connected) {
        const rest = selected - attempted;
        if (rest > 0) {
          failed += rest;
          out(`the connection to ${shownUrl} was lost: ${rest} dead letter(s) not attempted`);
        }
        break;
      }
    }
    failed += notFound;
    out(
      `replayed ${replayed} of ${selected + notFound} dead letter(s) to ${shownUrl}` +
        (skipped + failed > 0 ? ` (${skipped} skipped, ${failed} failed)` : ''),
    );
    return skipped + failed === 0 ? 0 : 1;
  } finally {
    db.close();
    if (client) await endClient(client);
  }
}

async function endClient(client: MqttClient): Promise<void> {
  await Promise.race([
    client.endAsync(false).catch(() => undefined),
    new Promise<void>((resolvePromise) => setTimeout(resolvePromise, 2000).unref()),
  ]);
  if (!client.disconnected) client.end(true);
}

/** `topicflow dead-letters list|replay|purge ...`: returns the exit code. */
export async function deadLettersCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  try {
    switch (sub) {
      case 'list':
        return listCommand(rest);
      case 'replay':
        return await replayCommand(rest);
      case 'purge':
        return purgeCommand(rest);
      case '--help':
      case '-h':
      case 'help':
        process.stdout.write(DEAD_LETTERS_USAGE);
        return 0;
      default:
        process.stderr.write(
          `topicflow dead-letters: ${sub === undefined ? 'name a subcommand' : `unknown subcommand "${sub}"`}\n\n${DEAD_LETTERS_USAGE}`,
        );
        return 2;
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const usage =
      error instanceof UsageError || (error as { code?: unknown }).code?.toString().startsWith('ERR_PARSE_ARGS');
    process.stderr.write(`topicflow dead-letters ${sub}: ${message}\n`);
    return usage ? 2 : 1;
  }
}
