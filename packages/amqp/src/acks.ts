import type { Channel, ConsumeMessage } from "amqplib";

/** The longest a finished delivery's ack waits for an open one below it. */
export const HOLD_MS = 100;

/**
 * The acks of one consumer channel, coalesced. A handler's message is acked only after its work committed (as
 * before), but the acks of handlers that finish together go out as one `basic.ack` with `multiple`, on the next
 * turn of the event loop.
 *
 * A multiple ack of tag N settles every unacked delivery ≤ N on the channel, so it is sent only up to the last
 * tag below which every delivery is done: the first delivery still open (its handler running, or left unacked
 * because its retry copy could not be published) bounds it. Done deliveries above that boundary wait for it (to go
 * in its multiple ack) while there are at most `holdUpTo` of them and for at most HOLD_MS; beyond that they are
 * acked one by one. Each held ack keeps a prefetch place taken, so the consumer holds fewer than half its
 * prefetch (none at prefetch 2: a worker would wait for its slowest send before receiving the next).
 *
 * Deliveries settled on their own (`ackNow`: the retry and dead-letter paths, after their copy was confirmed)
 * leave the open set at once. When the channel dies (`close`), everything pending is dropped: the broker
 * redelivers what was not acked, and the tags of a dead channel mean nothing on the next one.
 */
export class AckBatcher {
  /** Delivered and not yet acked, in delivery order (tags ascend on a channel). */
  private readonly open = new Map<number, ConsumeMessage>();
  /** Open deliveries whose handler finished: acked by the next flush. */
  private readonly done = new Set<number>();
  private scheduled: NodeJS.Immediate | undefined;
  /** Set while done deliveries wait above an open one: acks them one by one when it fires. */
  private holding: NodeJS.Timeout | undefined;
  private closed = false;

  /** `prefetch`: the channel's; fewer than half of it are held back. */
  constructor(
    private readonly channel: Channel,
    prefetch: number,
  ) {
    this.holdUpTo = Math.floor((prefetch - 1) / 2);
  }

  private readonly holdUpTo: number;

  private schedule(): void {
    this.scheduled ??= setImmediate(() => this.flush());
  }

  /** A delivery arrived (before its handler starts). */
  delivered(msg: ConsumeMessage): void {
    this.open.set(msg.fields.deliveryTag, msg);
  }

  /** The handler's work committed: acked by the next flush. False when the channel is gone (it will be redelivered). */
  ack(msg: ConsumeMessage): boolean {
    const tag = msg.fields.deliveryTag;
    if (this.closed || !this.open.has(tag)) {
      return false;
    }
    this.done.add(tag);
    this.schedule();
    return true;
  }

  /** Acks one delivery on its own, now (after its retry or dead-letter copy was confirmed). */
  ackNow(msg: ConsumeMessage): void {
    const tag = msg.fields.deliveryTag;
    if (this.closed) {
      throw new Error("the consumer channel closed before the message could be acked");
    }
    this.channel.ack(msg);
    this.open.delete(tag);
    this.done.delete(tag);
    // It may have been the delivery that held the done ones above it back.
    if (this.done.size > 0) {
      this.schedule();
    }
  }

  /**
   * Sends the pending acks: one multiple ack up to the first open delivery; the done ones above it one by one when
   * there are more than `holdUpTo` of them or `all` is set (stopping, or held for HOLD_MS).
   */
  flush(all = false): void {
    if (this.scheduled) {
      clearImmediate(this.scheduled);
      this.scheduled = undefined;
    }
    if (this.closed || this.done.size === 0) {
      return;
    }
    let upTo: ConsumeMessage | undefined;
    const covered: number[] = [];
    for (const [tag, msg] of this.open) {
      if (!this.done.has(tag)) {
        break;
      }
      upTo = msg;
      covered.push(tag);
    }
    try {
      if (upTo) {
        this.channel.ack(upTo, covered.length > 1);
        for (const tag of covered) {
          this.open.delete(tag);
          this.done.delete(tag);
        }
      }
      if (all || this.done.size > this.holdUpTo) {
        for (const tag of this.done) {
          const msg = this.open.get(tag);
          if (msg) {
            this.channel.ack(msg);
            this.open.delete(tag);
          }
        }
        this.done.clear();
      }
    } catch {
      // The channel closed under us: its unacked deliveries go back to the queue.
      this.close();
      return;
    }
    this.hold();
  }

  /** Starts the hold timer while done deliveries wait above an open one; stops it when none do. */
  private hold(): void {
    if (this.done.size === 0) {
      clearTimeout(this.holding);
      this.holding = undefined;
    } else {
      this.holding ??= setTimeout(() => {
        this.holding = undefined;
        this.flush(true);
      }, HOLD_MS).unref();
    }
  }

  /** The channel is gone: forget its deliveries (their tags are invalid on any other channel). */
  close(): void {
    this.closed = true;
    if (this.scheduled) {
      clearImmediate(this.scheduled);
      this.scheduled = undefined;
    }
    clearTimeout(this.holding);
    this.holding = undefined;
    this.open.clear();
    this.done.clear();
  }
}
