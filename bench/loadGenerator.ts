/**
 * The load generator, in a process of its own so it does not share the pipeline's cores' time
 * slices in-process. Prints one JSON line when done: { published, firstAt, lastAt }.
 */
import { connectAsync } from 'mqtt';
import { payloadFor, topicFor } from './workload.js';

interface Options {
  url: string;
  count: number;
  qos: 0 | 1;
  /** Messages per second; 0 = as fast as possible. */
  rate: number;
  topics: number;
  prefixes: number;
  padBytes: number;
}

const options = JSON.parse(process.argv[2] ?? '{}') as Options;
const pad = options.padBytes > 0 ? 'x'.repeat(options.padBytes) : '';
const MAX_OUTSTANDING = 2000;

const client = await connectAsync(options.url, { protocolVersion: 5, clean: true, reconnectPeriod: 0 });
let outstanding = 0;
let confirmed = 0;
let firstAt = 0;
let wake: (() => void) | undefined;
const onConfirm = (error?: Error): void => {
  if (error) throw error;
  outstanding--;
  confirmed++;
  wake?.();
};
const publish = (i: number): void => {
  if (i === 0) firstAt = Date.now();
  if (options.qos === 0)
    client.publish(topicFor(i, options.topics, options.prefixes), payloadFor(i, options.topics, pad), { qos: 0 });
  else {
    outstanding++;
    client.publish(
      topicFor(i, options.topics, options.prefixes),
      payloadFor(i, options.topics, pad),
      { qos: 1 },
      onConfirm,
    );
  }
};
const waitBelow = async (limit: number): Promise<void> => {
  while (outstanding >= limit) await new Promise<void>((resolve) => (wake = resolve));
};

if (options.rate > 0) {
  // Paced: every 5 ms, send what the schedule says should have gone by now.
  const start = performance.now();
  let sent = 0;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const due = Math.min(options.count, Math.floor(((performance.now() - start) / 1000) * options.rate) + 1);
      while (sent < due) publish(sent++);
      if (sent >= options.count) {
        clearInterval(timer);
        resolve();
      }
    }, 5);
  });
} else {
  for (let i = 0; i < options.count; i++) {
    if (options.qos === 1) await waitBelow(MAX_OUTSTANDING);
    publish(i);
    if (options.qos === 0 && i % 500 === 499) await new Promise((resolve) => setImmediate(resolve));
  }
}
if (options.qos === 1) await waitBelow(1);
const lastAt = Date.now();
await client.endAsync();
process.stdout.write(`${JSON.stringify({ published: options.count, confirmed, firstAt, lastAt })}\n`);
