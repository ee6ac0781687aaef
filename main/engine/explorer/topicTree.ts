import {
  TOPIC_PREVIEW_CHARS,
  type TopicColumns,
  type TopicMessage,
  type TopicMessageProperties,
  type TopicStat,
} from '../../../shared/protocol/explorerProtocol.js';
import { isUnder } from '../../../shared/explorer/topicFilters.js';

/**
 * One connection's topic tree, aggregated in the engine: per topic counters, an EWMA rate, the
 * last payload's preview, and a bounded history. Messages arrive at tens of thousands a second,
 * so the hot path (`add`) touches one Map lookup, a few fields, one history entry (with its
 * payload copy) and, the first time a topic changes after a delta, one array push.
 *
 * Memory is bounded three ways: topics per tree (beyond it a topic is counted in `droppedTopics`
 * and ignored), history per topic (messages AND payload bytes), and a HistoryBudget shared by all
 * trees that evicts the oldest history entries of any topic first. Counts never depend on the
 * history: they stay exact when history is evicted.
 */

export const DEFAULT_MAX_TOPICS = 200_000;
export const DEFAULT_HISTORY_MESSAGES = 100;
export const DEFAULT_HISTORY_BYTES = 512 * 1024;
export const DEFAULT_HISTORY_BUDGET_BYTES = 64 * 1024 * 1024;
/**
 * What a history entry costs besides its payload bytes, for the global budget: the entry object,
 * the Buffer object over the payload copy, its slot and alignment. Measured with 83-byte payloads
 * (200,000 entries, node --expose-gc, Node 20): ~245 bytes of V8 heap and ~40 bytes of pool
 * rounding per entry.
 */
export const HISTORY_ENTRY_OVERHEAD = 280;
/** Rate smoothing: EWMA time constant (ms). */
const RATE_TAU_MS = 3000;
/** Rates below this (msg/s) are shown as 0 and the topic leaves the decay sweep. */
const RATE_FLOOR = 0.01;
/** Distinct dropped topic names remembered (as hashes) to count them; beyond, each message counts. */
const MAX_DROPPED_HASHES = 100_000;
/** Bytes of payload decoded for a preview: enough for TOPIC_PREVIEW_CHARS characters of any UTF-8. */
const PREVIEW_BYTES = TOPIC_PREVIEW_CHARS * 4;

export interface TopicTreeLimits {
  readonly maxTopics?: number;
  readonly historyMessages?: number;
  readonly historyBytes?: number;
}

/** One message kept in a topic's history; also a link in the global budget's arrival-order list. */
export class HistoryEntry {
  prev: HistoryEntry | undefined = undefined;
  next: HistoryEntry | undefined = undefined;
  constructor(
    readonly seq: number,
    readonly at: number,
    readonly qos: 0 | 1 | 2,
    readonly retain: boolean,
    readonly payload: Buffer,
    readonly properties: TopicMessageProperties | undefined,
    readonly node: TopicNode,
  ) {}

  get cost(): number {
    return this.payload.length + HISTORY_ENTRY_OVERHEAD;
  }
}

/** A topic's aggregates (mutable, one hidden class). */
export class TopicNode {
  count = 0;
  bytes = 0;
  /** EWMA state: rate at `rateAt` (ms). */
  rate = 0;
  rateAt = 0;
  lastAt = 0;
  retained = false;
  /** A non-empty retained message was seen since the last empty retained one: the broker holds a value. */
  holdsRetained = false;
  qos: 0 | 1 | 2 = 0;
  size = 0;
  /** The last payload (shared with its history entry) until the preview is computed from it. */
  last: Buffer | undefined = undefined;
  preview = '';
  history: HistoryEntry[] = [];
  historyBytes = 0;
  /** In the changed set. */
  dirty = false;
  /** In the rate decay sweep. */
  active = false;
  constructor(readonly topic: string) {}
}

/**
 * The history byte budget shared by every tree: a doubly linked list of all history entries in
 * arrival order, so the oldest entry anywhere is evicted first in O(1).
 */
export class HistoryBudget {
  bytes = 0;
  entries = 0;
  evicted = 0;
  private head: HistoryEntry | undefined;
  private tail: HistoryEntry | undefined;

  constructor(readonly maxBytes: number = DEFAULT_HISTORY_BUDGET_BYTES) {}

  append(entry: HistoryEntry): void {
    entry.prev = this.tail;
    entry.next = undefined;
    if (this.tail) this.tail.next = entry;
    else this.head = entry;
    this.tail = entry;
    this.bytes += entry.cost;
    this.entries++;
    while (this.bytes > this.maxBytes && this.head) {
      const oldest = this.head;
      // The oldest entry anywhere is also its own topic's oldest (both lists are in arrival order).
      const node = oldest.node;
      if (node.history[0] === oldest) node.history.shift();
      else node.history.splice(node.history.indexOf(oldest), 1);
      node.historyBytes -= oldest.payload.length;
      if (node.last === oldest.payload) settlePreview(node);
      this.unlink(oldest);
      this.evicted++;
    }
  }

  unlink(entry: HistoryEntry): void {
    if (entry.prev) entry.prev.next = entry.next;
    else this.head = entry.next;
    if (entry.next) entry.next.prev = entry.prev;
    else this.tail = entry.prev;
    entry.prev = entry.next = undefined;
    this.bytes -= entry.cost;
    this.entries--;
  }
}

/** The payload's first TOPIC_PREVIEW_CHARS characters as text (bytes that are not UTF-8 become U+FFFD). */
export function previewOf(payload: Buffer): string {
  const text = payload.toString('utf8', 0, Math.min(payload.length, PREVIEW_BYTES));
  return text.length > TOPIC_PREVIEW_CHARS ? text.slice(0, TOPIC_PREVIEW_CHARS) : text;
}

function settlePreview(node: TopicNode): void {
  if (node.last !== undefined) {
    node.preview = previewOf(node.last);
    node.last = undefined;
  }
}

function hash32(text: string): number {
  // FNV-1a over UTF-16 code units: cheap, and only counts distinct dropped names.
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export class TopicTree {
  /** Increases with every message (never reset, not even by clear()). */
  seq = 0;
  /** Messages received since creation or clear() (those of dropped topics included). */
  messages = 0;
  droppedTopics = 0;
  readonly maxTopics: number;
  readonly historyMessages: number;
  readonly historyBytes: number;
  private topics = new Map<string, TopicNode>();
  private changed: TopicNode[] = [];
  private active: TopicNode[] = [];
  private droppedHashes = new Set<number>();
  private rateSample = { at: 0, messages: 0, rate: 0 };

  constructor(
    private readonly budget: HistoryBudget,
    limits: TopicTreeLimits = {},
  ) {
    this.maxTopics = limits.maxTopics ?? DEFAULT_MAX_TOPICS;
    this.historyMessages = limits.historyMessages ?? DEFAULT_HISTORY_MESSAGES;
    this.historyBytes = limits.historyBytes ?? DEFAULT_HISTORY_BYTES;
  }

  get size(): number {
    return this.topics.size;
  }

  /** Takes one message in. `payload` is copied when kept; the caller's buffer is not retained. */
  add(
    topic: string,
    payload: Buffer,
    qos: 0 | 1 | 2,
    retain: boolean,
    properties: TopicMessageProperties | undefined,
    now: number,
  ): void {
    this.messages++;
    let node = this.topics.get(topic);
    if (node === undefined) {
      if (this.topics.size >= this.maxTopics) {
        this.countDropped(topic);
        return;
      }
      node = new TopicNode(topic);
      this.topics.set(topic, node);
    }
    const seq = ++this.seq;
    const size = payload.length;
    node.count++;
    node.bytes += size;
    node.rate = node.rateAt === 0 ? 1000 / RATE_TAU_MS : decayed(node, now) + 1000 / RATE_TAU_MS;
    node.rateAt = now;
    node.lastAt = now;
    node.qos = qos;
    node.size = size;
    if (retain) node.holdsRetained = size > 0;
    node.retained = retain && size > 0;
    if (!node.dirty) {
      node.dirty = true;
      this.changed.push(node);
    }
    if (!node.active) {
      node.active = true;
      this.active.push(node);
    }
    if (this.historyMessages > 0 && size <= this.historyBytes) {
      // A copy: mqtt.js payloads may be views of a larger socket chunk that would stay alive.
      const copy = Buffer.from(payload);
      node.last = copy;
      const entry = new HistoryEntry(seq, now, qos, retain, copy, properties, node);
      const history = node.history;
      history.push(entry);
      node.historyBytes += size;
      while (history.length > this.historyMessages || node.historyBytes > this.historyBytes) {
        const oldest = history.shift() as HistoryEntry;
        node.historyBytes -= oldest.payload.length;
        this.budget.unlink(oldest);
      }
      this.budget.append(entry);
    } else {
      node.last = undefined;
      node.preview = previewOf(payload);
    }
  }

  private countDropped(topic: string): void {
    if (this.droppedHashes.size < MAX_DROPPED_HASHES) {
      const h = hash32(topic);
      if (this.droppedHashes.has(h)) return;
      this.droppedHashes.add(h);
    }
    this.droppedTopics++;
  }

  stat(node: TopicNode, now: number): TopicStat {
    settlePreview(node);
    const rate = decayed(node, now);
    return {
      topic: node.topic,
      count: node.count,
      bytes: node.bytes,
      rate: rate < RATE_FLOOR ? 0 : Math.round(rate * 100) / 100,
      lastAt: node.lastAt,
      retained: node.retained,
      qos: node.qos,
      size: node.size,
      preview: node.preview,
    };
  }

  /** Every topic, and the seq they are current at. */
  snapshot(now = Date.now()): { seq: number; topics: TopicStat[] } {
    const topics: TopicStat[] = [];
    for (const node of this.topics.values()) topics.push(this.stat(node, now));
    return { seq: this.seq, topics };
  }

  /** Every topic as columns (no object per topic: a 100,000-topic snapshot serializes ~3× faster). */
  snapshotColumns(now = Date.now()): { seq: number; columns: TopicColumns } {
    const n = this.topics.size;
    const columns = {
      topic: new Array<string>(n),
      count: new Array<number>(n),
      bytes: new Array<number>(n),
      rate: new Array<number>(n),
      lastAt: new Array<number>(n),
      retained: new Array<0 | 1>(n),
      qos: new Array<0 | 1 | 2>(n),
      size: new Array<number>(n),
      preview: new Array<string>(n),
    };
    let i = 0;
    for (const node of this.topics.values()) {
      settlePreview(node);
      const rate = decayed(node, now);
      columns.topic[i] = node.topic;
      columns.count[i] = node.count;
      columns.bytes[i] = node.bytes;
      columns.rate[i] = rate < RATE_FLOOR ? 0 : Math.round(rate * 100) / 100;
      columns.lastAt[i] = node.lastAt;
      columns.retained[i] = node.retained ? 1 : 0;
      columns.qos[i] = node.qos;
      columns.size[i] = node.size;
      columns.preview[i] = node.preview;
      i++;
    }
    return { seq: this.seq, columns };
  }

  /** True when topics changed since the last delta. */
  get hasChanges(): boolean {
    return this.changed.length > 0;
  }

  /** The changed topics (at most `max`; `more` when others wait), removed from the changed set. */
  takeDelta(max: number, now = Date.now()): { seq: number; topics: TopicStat[]; more: boolean } {
    const take = this.changed.length <= max ? this.changed : this.changed.slice(0, max);
    this.changed = take === this.changed ? [] : this.changed.slice(max);
    const topics: TopicStat[] = new Array<TopicStat>(take.length);
    for (let i = 0; i < take.length; i++) {
      const node = take[i] as TopicNode;
      node.dirty = false;
      topics[i] = this.stat(node, now);
    }
    return { seq: this.seq, topics, more: this.changed.length > 0 };
  }

  /** Forgets what changed (nobody is listening; a page starts from a snapshot). */
  dropChanges(): void {
    for (const node of this.changed) node.dirty = false;
    this.changed = [];
  }

  /**
   * Marks topics whose rate is decaying (no message for a second) as changed so the page sees
   * their rates fall to 0; call about once a second. Costs O(topics with a non-zero rate).
   */
  sweepRates(now: number): void {
    const still: TopicNode[] = [];
    for (const node of this.active) {
      if (now - node.lastAt < 1000) {
        still.push(node);
        continue;
      }
      if (decayed(node, now) < RATE_FLOOR) node.active = false;
      else still.push(node);
      if (!node.dirty) {
        node.dirty = true;
        this.changed.push(node);
      }
    }
    this.active = still;
  }

  /** Messages per second since the previous call (the connection's rate over the last second). */
  sampleRate(now: number): number {
    const s = this.rateSample;
    if (s.at > 0 && now > s.at) s.rate = Math.round(((this.messages - s.messages) * 1000) / (now - s.at));
    s.at = now;
    s.messages = this.messages;
    return s.rate;
  }

  get rate(): number {
    return this.rateSample.rate;
  }

  get(topic: string): TopicNode | undefined {
    return this.topics.get(topic);
  }

  /** Every topic for which `match` is true. */
  find(match: (topic: string) => boolean): TopicNode[] {
    const found: TopicNode[] = [];
    for (const node of this.topics.values()) if (match(node.topic)) found.push(node);
    return found;
  }

  /** Topics at or under `root` whose broker holds a retained value, as far as the tree saw. */
  retainedUnder(root: string): string[] {
    return this.find((t) => isUnder(t, root))
      .filter((n) => n.holdsRetained)
      .map((n) => n.topic)
      .sort();
  }

  /** History of one topic, oldest first: messages after `sinceSeq`, at most `limit`. */
  history(topic: string, sinceSeq = 0, limit = Infinity): { messages: TopicMessage[]; evicted: number } {
    const node = this.topics.get(topic);
    if (!node) return { messages: [], evicted: 0 };
    const messages: TopicMessage[] = [];
    for (const e of node.history) {
      if (e.seq <= sinceSeq) continue;
      if (messages.length >= limit) break;
      messages.push({
        seq: e.seq,
        topic: node.topic,
        at: e.at,
        qos: e.qos,
        retain: e.retain,
        size: e.payload.length,
        payloadBase64: e.payload.toString('base64'),
        ...(e.properties ? { properties: e.properties } : {}),
      });
    }
    return { messages, evicted: node.count - node.history.length };
  }

  /** Forgets every topic and its history; returns how many topics there were. seq keeps increasing. */
  clear(): number {
    const cleared = this.topics.size;
    for (const node of this.topics.values()) {
      for (const entry of node.history) this.budget.unlink(entry);
      node.history = [];
    }
    this.topics = new Map();
    this.changed = [];
    this.active = [];
    this.droppedHashes = new Set();
    this.droppedTopics = 0;
    this.messages = 0;
    this.rateSample = { at: 0, messages: 0, rate: 0 };
    return cleared;
  }
}

function decayed(node: TopicNode, now: number): number {
  const dt = now - node.rateAt;
  return dt <= 0 ? node.rate : node.rate * Math.exp(-dt / RATE_TAU_MS);
}
