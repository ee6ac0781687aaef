/**
 * The Node/V8 settings `topicflow` runs the engine with, for a small, flat memory footprint on a
 * gateway: a 1 MB young generation (V8's default grows to 16 MB per semi-space), an old
 * generation that grows by 40 % past its live size after a full collection instead of up to 4×,
 * and one V8 platform thread instead of four (each brought its own malloc arena: -7 MB idle).
 * With them, peak RSS while draining 200,000 messages fell from ~230 MB to ~100 MB at ~85 % of
 * the unbounded throughput (`npm run bench`, figures in bench/results/latest.md). None caps the
 * heap: a flow that needs more memory gets it, it is never killed for it.
 *
 * They take effect only when Node starts, so they are in the launcher's shebang
 * (`#!/usr/bin/env -S node ...` in topicflow.ts; a test keeps the two equal), and whatever spawns
 * the engine itself (tests, bench, `npm start`, the desktop app) passes them.
 */
export const ENGINE_NODE_FLAGS: readonly string[] = [
  '--max-semi-space-size=1',
  '--heap-growing-percent=40',
  '--v8-pool-size=1',
];

/** True when this process started with ENGINE_NODE_FLAGS (on the command line or in NODE_OPTIONS). */
export function engineFlagsApplied(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string = process.env['NODE_OPTIONS'] ?? '',
): boolean {
  const given = new Set([...execArgv, ...nodeOptions.split(/\s+/)]);
  return ENGINE_NODE_FLAGS.every((flag) => given.has(flag));
}
