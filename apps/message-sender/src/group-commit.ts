/** How a GroupCommit writes. */
export interface GroupCommitOptions<I, O> {
  /** The most items one write takes. */
  maxBatch: number;
  /** Writes in flight at once; items added meanwhile gather for the next. */
  maxWrites: number;
  /** Writes the items in ONE statement (atomic on its own): one outcome per item, in their order. */
  write(items: I[]): Promise<O[]>;
  /** A key no two items of a write, nor of the writes in flight, share: a later item waits for the next write. */
  key?(item: I): string;
}

interface Pending<I, O> {
  item: I;
  resolve(outcome: O): void;
  reject(err: unknown): void;
}

/**
 * A group commit: the items added in the same turn of the event loop, or while the writes in flight fill
 * `maxWrites`, go together in the next write, so under load an item costs a fraction of a statement, a round trip
 * and a commit, and when idle it is written at the end of the turn it was added in. (A write started at once would
 * take the first of a burst alone: the deliveries of one socket read, the answers of one poll.) A failed write of
 * several items is retried one item at a time, so only the one at fault fails.
 */
export class GroupCommit<I, O> {
  private readonly queue: Pending<I, O>[] = [];
  private writes = 0;
  /** A write is due at the end of this turn. */
  private scheduled = false;
  /** The keys of the writes in flight. */
  private readonly writing = new Set<string>();

  constructor(private readonly options: GroupCommitOptions<I, O>) {}

  /** Resolves with the item's outcome once its write committed. */
  add(item: I): Promise<O> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.next();
        });
      }
    });
  }

  private next(): void {
    while (this.queue.length > 0 && this.writes < this.options.maxWrites) {
      const batch = this.take();
      if (batch.length === 0) {
        return;
      }
      this.writes++;
      void this.write(batch).finally(() => {
        this.writes--;
        for (const { item } of batch) {
          this.writing.delete(this.options.key?.(item) ?? "");
        }
        this.next();
      });
    }
  }

  private take(): Pending<I, O>[] {
    const { key, maxBatch } = this.options;
    if (!key) {
      return this.queue.splice(0, maxBatch);
    }
    const batch: Pending<I, O>[] = [];
    for (let i = 0; i < this.queue.length && batch.length < maxBatch; ) {
      const pending = this.queue[i] as Pending<I, O>;
      if (this.writing.has(key(pending.item))) {
        i++;
        continue;
      }
      this.writing.add(key(pending.item));
      batch.push(pending);
      this.queue.splice(i, 1);
    }
    return batch;
  }

  private async write(batch: Pending<I, O>[]): Promise<void> {
    try {
      const outcomes = await this.options.write(batch.map((pending) => pending.item));
      for (const [i, pending] of batch.entries()) {
        pending.resolve(outcomes[i] as O);
      }
    } catch (err) {
      if (batch.length === 1) {
        batch[0]?.reject(err);
        return;
      }
      await Promise.all(batch.map((pending) => this.write([pending])));
    }
  }
}

/**
 * Reads shared per turn: a GroupCommit whose writes are reads. The items asked for in the same turn of the event
 * loop, or while reads are in flight, are read in the next statement together, each after it was asked for (the
 * consent copy's, the address book's). Counts its statements, for a test.
 */
export class SharedReads<I, O> {
  statements = 0;
  private readonly group = new GroupCommit<I, O>({
    maxBatch: 500,
    maxWrites: 2,
    write: (items) => {
      this.statements++;
      return this.read(items);
    },
  });

  /** `read(items)`: ONE statement answering each item, in their order. */
  constructor(private readonly read: (items: I[]) => Promise<O[]>) {}

  /** The item's answer, read after this call. */
  protected get(item: I): Promise<O> {
    return this.group.add(item);
  }
}

/**
 * One `make(db)` per database client, made when first asked for: a client's group commit is shared by every caller
 * on it (its final reports, its consent reads), so what they ask for in the same turn goes together.
 */
export function perClient<C extends object, T>(make: (db: C) => T): (db: C) => T {
  const made = new WeakMap<C, T>();
  return (db) => {
    let it = made.get(db);
    if (it === undefined) {
      it = make(db);
      made.set(db, it);
    }
    return it;
  };
}
