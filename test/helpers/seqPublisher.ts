import { randomBytes } from 'node:crypto';
import { connect, type MqttClient } from 'mqtt';
import { waitFor } from './waitFor.js';

/**
 * The publishing side of a fault test: a QoS 1 publisher with its own persistent session that
 * numbers its messages (`{"seq":N,...}`) and records exactly which numbers the broker
 * acknowledged (PUBACK). Whatever the broker acknowledged it owns; a pipeline that loses none of
 * it and stores none twice has every acknowledged number exactly once (see `verifySeqs`).
 */
export interface SeqPublisherOptions {
  readonly url: string;
  readonly topic: string;
  /** Fixed client id of its persistent session (default: a random one). */
  readonly clientId?: string;
  /** Publishes in flight (sent, not acknowledged yet) at most. Default 20. */
  readonly window?: number;
  /** Publishes per second at most (default: as fast as the window allows). */
  readonly ratePerSecond?: number;
  /** Stop after this many (default: until stop()). */
  readonly count?: number;
  /** Extra payload fields per message (`seq` and `ts` are always set). */
  readonly fields?: (seq: number) => Record<string, unknown>;
}

export interface SeqPublisherResult {
  /** Seqs handed to the client (1 … published). */
  readonly published: number;
  /** Seqs the broker acknowledged. */
  readonly acked: ReadonlySet<number>;
  /** Seqs sent but never acknowledged before stop(): the broker may or may not have them. */
  readonly unacked: readonly number[];
  /**
   * Seqs that were in flight when a connection dropped. mqtt.js sends them again on the next
   * connection; QoS 1 being at least once, a broker that had received one may now hold it twice.
   */
  readonly inFlightAtDisconnect: ReadonlySet<number>;
  readonly connects: number;
}

export interface SeqPublisher {
  readonly client: MqttClient;
  readonly published: number;
  readonly acked: ReadonlySet<number>;
  readonly connects: number;
  /** Resolves once at least `count` seqs were acknowledged. */
  waitForAcked(count: number, timeoutMs?: number): Promise<void>;
  /** Stops publishing, waits up to `settleMs` for the acknowledgements still due, then disconnects (once). */
  stop(settleMs?: number): Promise<SeqPublisherResult>;
}

/** Connects (waiting for the first CONNACK) and starts publishing seq 1, 2, ... */
export async function startSeqPublisher(options: SeqPublisherOptions): Promise<SeqPublisher> {
  const window = options.window ?? 20;
  const rate = options.ratePerSecond;
  const client = connect(options.url, {
    clientId: options.clientId ?? `seq-publisher-${randomBytes(4).toString('hex')}`,
    protocolVersion: 5,
    clean: false,
    properties: { sessionExpiryInterval: 3600 },
    reconnectPeriod: 250,
    connectTimeout: 5000,
  });
  client.on('error', () => undefined); // refused while the broker is down: it reconnects
  const acked = new Set<number>();
  const inFlight = new Set<number>();
  const inFlightAtDisconnect = new Set<number>();
  let connects = 0;
  let published = 0;
  let stopping = false;
  let timer: NodeJS.Timeout | undefined;
  let stopped: Promise<SeqPublisherResult> | undefined;
  const startedAt = performance.now();

  client.on('connect', () => connects++);
  client.on('close', () => {
    for (const seq of inFlight) inFlightAtDisconnect.add(seq);
  });

  const pump = (): void => {
    while (!stopping && inFlight.size < window && (options.count === undefined || published < options.count)) {
      if (rate !== undefined && published >= ((performance.now() - startedAt) * rate) / 1000) {
        timer ??= setTimeout(
          () => {
            timer = undefined;
            pump();
          },
          Math.max(1, Math.ceil(1000 / rate)),
        );
        return;
      }
      const seq = ++published;
      inFlight.add(seq);
      const payload = JSON.stringify({ seq, ts: Date.now(), ...options.fields?.(seq) });
      // Offline, mqtt.js keeps QoS 1 publishes in its outgoing store and sends them on reconnect;
      // the callback runs on the PUBACK (or with an error when the client is ended first).
      client.publish(options.topic, payload, { qos: 1 }, (error) => {
        inFlight.delete(seq);
        if (!error) acked.add(seq);
        pump();
      });
    }
  };

  await waitFor(`publisher connected to ${options.url}`, () => connects > 0, 10_000);
  pump();

  return {
    client,
    get published() {
      return published;
    },
    acked,
    get connects() {
      return connects;
    },
    async waitForAcked(count, timeoutMs = 20_000) {
      await waitFor(`${count} acknowledged publishes (have ${acked.size})`, () => acked.size >= count, timeoutMs);
    },
    stop(settleMs = 10_000) {
      stopped ??= (async () => {
        stopping = true;
        if (timer) clearTimeout(timer);
        const deadline = Date.now() + settleMs;
        while (inFlight.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
        const unacked = [...inFlight].sort((a, b) => a - b);
        await client.endAsync(true);
        return { published, acked, unacked, inFlightAtDisconnect, connects };
      })();
      return stopped;
    },
  };
}

export interface SeqVerdict {
  /** Rows read, distinct seqs among them, seqs acknowledged to the publisher. */
  readonly rows: number;
  readonly distinct: number;
  readonly acked: number;
  /** Acknowledged by the broker, yet not stored: lost. */
  readonly missing: readonly number[];
  /** Stored more than once. */
  readonly duplicates: readonly { readonly seq: number; readonly count: number }[];
  /** Stored though never acknowledged to the publisher (allowed: the PUBACK may have been lost). */
  readonly storedUnacked: number;
}

/** Compares stored rows with what the broker acknowledged: every acknowledged seq exactly once. */
export function verifySeqs(
  rows: Iterable<{ readonly seq: number | null } | number>,
  acked: ReadonlySet<number>,
): SeqVerdict {
  const counts = new Map<number, number>();
  let total = 0;
  for (const row of rows) {
    const seq = typeof row === 'number' ? row : row.seq;
    total++;
    if (seq === null) continue;
    counts.set(seq, (counts.get(seq) ?? 0) + 1);
  }
  const missing = [...acked].filter((seq) => !counts.has(seq)).sort((a, b) => a - b);
  const duplicates = [...counts]
    .filter(([, count]) => count > 1)
    .map(([seq, count]) => ({ seq, count }))
    .sort((a, b) => a.seq - b.seq);
  const storedUnacked = [...counts.keys()].filter((seq) => !acked.has(seq)).length;
  return { rows: total, distinct: counts.size, acked: acked.size, missing, duplicates, storedUnacked };
}
