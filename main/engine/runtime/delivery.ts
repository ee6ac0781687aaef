import type { DeliveryHandle } from '../../../shared/message.js';

/**
 * Counts the unfinished work a received message caused. Whoever takes the message on beyond the
 * synchronous call (a sink's batch, a pending JSONata evaluation, an HTTP request, a dead letter
 * waiting for its commit) holds it and releases it when that work is durable or failed for good.
 * When the count falls to zero the message is done and `onDone` runs once, exactly then.
 */
export class Delivery implements DeliveryHandle {
  private holds = 1;

  constructor(private readonly onDone: () => void) {}

  hold(): void {
    if (this.holds <= 0) throw new Error('a finished delivery cannot be held again');
    this.holds++;
  }

  release(): void {
    if (this.holds <= 0) throw new Error('delivery released more often than held');
    if (--this.holds === 0) this.onDone();
  }

  get done(): boolean {
    return this.holds === 0;
  }
}
