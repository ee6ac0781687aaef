import { isUtf8 } from 'node:buffer';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  DEFAULT_PAGE_SIZE,
  MAX_PAGE_SIZE,
  type DeadLetterFilter,
  type DeadLetterRecord,
} from '../engine/store/deadLetters.js';
import { DEAD_LETTER_MAX_BYTES } from '../engine/store/store.js';
import {
  UsageError,
  iso,
  noPositionals,
  out,
  parseIds,
  parseInteger,
  printable,
  truncate,
  truncated,
  withStore,
} from './deadLettersArgs.js';
import { replayCommand } from './deadLettersReplay.js';

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

const TOPIC_WIDTH = 48;
const REASON_WIDTH = 72;

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
