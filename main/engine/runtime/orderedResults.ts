/**
 * Lets asynchronous work (JSONata 2 evaluates asynchronously) run concurrently while results
 * leave in the order their messages arrived, so a sink never sees an older state after a newer.
 * Bounded: `push` returns false when `limit` items are pending.
 */
export class OrderedResults<I, R> {
  private readonly entries: { item: I; settled: boolean; value: R | undefined; error: unknown }[] = [];
  private head = 0;
  private waiters: (() => void)[] = [];

  constructor(
    private readonly limit: number,
    private readonly release: (item: I, value: R | undefined, error: unknown) => void,
  ) {}

  get size(): number {
    return this.entries.length - this.head;
  }

  push(item: I, work: Promise<R>): boolean {
    if (this.size >= this.limit) return false;
    const entry = { item, settled: false, value: undefined as R | undefined, error: undefined as unknown };
    this.entries.push(entry);
    work.then(
      (value) => {
        entry.settled = true;
        entry.value = value;
        this.drain();
      },
      (error: unknown) => {
        entry.settled = true;
        entry.error = error ?? new Error('failed');
        this.drain();
      },
    );
    return true;
  }

  /** Resolves once nothing is pending. */
  idle(): Promise<void> {
    if (this.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private drain(): void {
    const entries = this.entries;
    while (this.head < entries.length && (entries[this.head] as { settled: boolean }).settled) {
      const entry = entries[this.head++] as { item: I; value: R | undefined; error: unknown };
      this.release(entry.item, entry.value, entry.error);
    }
    if (this.head > 1024 && this.head * 2 > entries.length) {
      entries.splice(0, this.head);
      this.head = 0;
    }
    if (this.size === 0 && this.waiters.length > 0) {
      const waiters = this.waiters;
      this.waiters = [];
      for (const w of waiters) w();
    }
  }
}
