/** Upper bounds (ms) of the ack-latency buckets: 1 ms to 30 s, roughly ×2.5 apart. */
export const ACK_LATENCY_BOUNDS_MS: readonly number[] = [
  1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000,
];

/** A histogram's counts at one moment; `counts` has one more entry than `boundsMs` (the overflow). */
export interface LatencySnapshot {
  /** Upper bounds of the buckets, in milliseconds, ascending (each bucket is `<= bound`). */
  readonly boundsMs: readonly number[];
  /** Observations per bucket (not cumulative); the last entry counts those above every bound. */
  readonly counts: readonly number[];
  readonly count: number;
  readonly sumMs: number;
}

/**
 * Counts durations into fixed buckets. `observe` allocates nothing (a short scan over a typed
 * array), so it can sit on the hot path; `snapshot` copies the counts for whoever reports them.
 */
export class LatencyHistogram {
  private readonly bounds: Float64Array;
  private readonly counts: Float64Array;
  private total = 0;
  private sum = 0;

  constructor(readonly boundsMs: readonly number[] = ACK_LATENCY_BOUNDS_MS) {
    for (let i = 1; i < boundsMs.length; i++) {
      if (!((boundsMs[i] as number) > (boundsMs[i - 1] as number))) throw new Error('bounds must ascend');
    }
    this.bounds = Float64Array.from(boundsMs);
    this.counts = new Float64Array(boundsMs.length + 1);
  }

  observe(ms: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && ms > (bounds[i] as number)) i++;
    this.counts[i] = (this.counts[i] as number) + 1;
    this.total++;
    this.sum += ms;
  }

  get count(): number {
    return this.total;
  }

  snapshot(): LatencySnapshot {
    return { boundsMs: this.boundsMs, counts: Array.from(this.counts), count: this.total, sumMs: this.sum };
  }
}
