/**
 * Collects items and writes them in one call (one SQLite transaction) when `batchSize` items
 * wait or when the input goes idle, whichever comes first. "Idle" is the event loop's check
 * phase (setImmediate): everything that arrived in the socket reads of this turn is in the batch,
 * so batches grow with the load and latency stays low when the load is light.
 */
export class BatchWriter<T> {
  private items: T[] = [];
  private scheduled: NodeJS.Immediate | undefined;
  private readonly flushIdle = (): void => {
    this.scheduled = undefined;
    this.flush();
  };

  constructor(
    private readonly batchSize: number,
    private readonly write: (items: T[]) => void,
  ) {}

  get pending(): number {
    return this.items.length;
  }

  add(item: T): void {
    this.items.push(item);
    if (this.items.length >= this.batchSize) this.flush();
    else this.scheduled ??= setImmediate(this.flushIdle);
  }

  /** Writes what waits now. `write` must deal with its own errors. */
  flush(): void {
    if (this.scheduled) {
      clearImmediate(this.scheduled);
      this.scheduled = undefined;
    }
    if (this.items.length === 0) return;
    const batch = this.items;
    this.items = [];
    this.write(batch);
  }
}
