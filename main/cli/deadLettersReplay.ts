import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import {
  DEFAULT_PAGE_SIZE,
  DeadLetterQueries,
  MAX_PAGE_SIZE,
  openDeadLetterDb,
  type DeadLetterFilter,
  type DeadLetterRecord,
} from '../engine/store/deadLetters.js';
import {
  UsageError,
  noPositionals,
  out,
  parseIds,
  parseInteger,
  printable,
  redactUrl,
  truncated,
} from './deadLettersArgs.js';

/** Publishes in flight at once while replaying (Mosquitto's default max_inflight_messages is 20). */
const REPLAY_WINDOW = 10;

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

export async function replayCommand(args: string[]): Promise<number> {
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
