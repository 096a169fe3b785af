import type { SendingWindow } from "@tidings/contracts";
import type { Db } from "../db.ts";
import type { Channel as ChannelRow } from "../generated/prisma/client.ts";
import { type Channel, type Channels, DEFAULT_CHANNEL } from "../outbound/channel.ts";

/** A channel as a worker sends through it: its adapter and the row's limits. */
export interface ResolvedChannel {
  id: string;
  type: string;
  channel: Channel;
  fallback: string | null;
  /** Messages (SMS: segments) per second across all workers; 0 = no limit. */
  rateLimit: number;
  /** Provider requests in progress at once across all workers; 0 = no limit. */
  concurrencyLimit: number;
  /** When it may send (the recipient's local time); null = any time. */
  sendingWindow: SendingWindow | null;
  /** Messages per person per day through it: null = DAILY_CAP_PER_PERSON, 0 = no cap. */
  dailyCap: number | null;
}

/** How a worker's cache turns rows into adapters (an API process builds none). */
export interface ChannelAdapters {
  /** Channels given in code, by channel id: they take precedence over rows of the same id. */
  injected: Channels;
  /** A row's adapter; called again when the row's updated_at changes. */
  build(row: ChannelRow): Promise<Channel>;
}

interface BuiltAdapter {
  updatedAt: number;
  adapter: Promise<Channel>;
}

/**
 * The channel table, read once per `ttlMs` (`CHANNEL_CACHE_TTL_MS`) and shared by every caller of one process:
 * the API's hot paths (sends, provider callbacks) and the worker's sends. A change made through this process's
 * API clears it at once (`invalidate`, called by the channel routes); a change made through another process is
 * seen within `ttlMs`. A channel id the cache does not know is looked up again at once, so a channel created
 * anywhere is usable for sends as soon as it is committed; what may lag by up to `ttlMs` is a change of the
 * default, of a configuration, or a deletion, and for provider callbacks (`cached`) also a new channel.
 *
 * With `adapters` (workers) it also holds each channel's adapter, built when first sent through and rebuilt when
 * its row's updated_at changes, and where a throttled channel's pause is kept.
 */
export class ChannelCache {
  private rows = new Map<string, ChannelRow>();
  private defaultId = DEFAULT_CHANNEL;
  private loadedAt = Number.NEGATIVE_INFINITY;
  /** Bumped by invalidate: a read that started before a change must not count as fresh after it. */
  private generation = 0;
  private storedGeneration = -1;
  private loading: { generation: number; done: Promise<void> } | undefined;
  private readonly built = new Map<string, BuiltAdapter>();
  private readonly pausedUntil = new Map<string, number>();

  constructor(
    private readonly db: Db,
    private readonly ttlMs: number,
    private readonly adapters?: ChannelAdapters,
  ) {}

  /** The channel's row, or undefined when there is no such channel. */
  async row(id: string): Promise<ChannelRow | undefined> {
    await this.fresh();
    if (!this.rows.has(id) && !this.adapters?.injected[id]) {
      this.invalidate(); // created since the last read?
      await this.fresh();
    }
    return this.rows.get(id);
  }

  /**
   * The channel's row as the cache holds it (read again only once the TTL has passed, one read shared by every
   * caller): for provider callbacks, which are public, so that no request, forged or not, makes a read of its own.
   * A channel created, changed or deleted by another process is seen here within the TTL.
   */
  async cached(id: string): Promise<ChannelRow | undefined> {
    await this.fresh();
    return this.rows.get(id);
  }

  /** The type of a channel; a channel given in code that is not stored (tests) stands in as `log`. */
  async typeOf(id: string): Promise<string> {
    return (await this.row(id))?.type ?? "log";
  }

  /** The default channel's id (the built-in LOG channel when none is marked default). */
  async defaultChannel(): Promise<string> {
    await this.fresh();
    return this.defaultId;
  }

  /** The channel to send through (a worker's cache only), or undefined when there is no such channel. */
  async resolve(id: string): Promise<ResolvedChannel | undefined> {
    const row = await this.row(id);
    const injected = this.adapters?.injected[id];
    if (injected) {
      return {
        id,
        type: row?.type ?? "custom",
        channel: injected,
        fallback: row?.fallback ?? null,
        rateLimit: row?.rateLimit ?? 0,
        concurrencyLimit: row?.concurrencyLimit ?? 0,
        sendingWindow: (row?.sendingWindow ?? null) as SendingWindow | null,
        dailyCap: row?.dailyCap ?? null,
      };
    }
    return (
      row && {
        id,
        type: row.type,
        channel: await this.adapterOf(row),
        fallback: row.fallback,
        rateLimit: row.rateLimit,
        concurrencyLimit: row.concurrencyLimit,
        sendingWindow: row.sendingWindow as SendingWindow | null,
        dailyCap: row.dailyCap,
      }
    );
  }

  /** The next look-up reads the table again. */
  invalidate(): void {
    this.generation++;
    this.loadedAt = Number.NEGATIVE_INFINITY;
  }

  /** Stops sending through a channel for `ms` (the provider is throttling us). */
  pause(id: string, ms: number): void {
    const until = Date.now() + ms;
    if ((this.pausedUntil.get(id) ?? 0) < until) {
      this.pausedUntil.set(id, until);
    }
  }

  /** How long the channel stays paused; 0 when it is not. */
  pausedFor(id: string): number {
    return Math.max(0, (this.pausedUntil.get(id) ?? 0) - Date.now());
  }

  /** Releases every adapter built (connection pools). */
  async close(): Promise<void> {
    const built = [...this.built.values()];
    this.built.clear();
    await Promise.allSettled(built.map(async ({ adapter }) => (await adapter).close?.()));
  }

  /** The row's adapter, built once per updated_at; a build that fails is tried again by the next send. */
  private adapterOf(row: ChannelRow): Promise<Channel> {
    const updatedAt = row.updatedAt.getTime();
    const known = this.built.get(row.id);
    if (known?.updatedAt === updatedAt) {
      return known.adapter;
    }
    if (known) {
      this.retire(row.id, known);
    }
    const adapter = (this.adapters as ChannelAdapters).build(row);
    const entry = { updatedAt, adapter };
    this.built.set(row.id, entry);
    adapter.catch(() => {
      if (this.built.get(row.id) === entry) {
        this.built.delete(row.id);
      }
    });
    return adapter;
  }

  private retire(id: string, { adapter }: BuiltAdapter): void {
    this.built.delete(id);
    void adapter.then((a) => a.close?.()).catch(() => undefined);
  }

  private async fresh(): Promise<void> {
    if (Date.now() - this.loadedAt < this.ttlMs) {
      return;
    }
    // Concurrent requests share one read, unless it started before the last invalidate.
    if (this.loading?.generation !== this.generation) {
      const generation = this.generation;
      const done = this.load(generation).finally(() => {
        if (this.loading?.done === done) {
          this.loading = undefined;
        }
      });
      this.loading = { generation, done };
    }
    await this.loading.done;
  }

  private async load(generation: number): Promise<void> {
    const startedAt = Date.now();
    const rows = await this.db.channel.findMany();
    if (generation < this.storedGeneration) {
      return; // a later read already stored newer rows
    }
    this.rows = new Map(rows.map((row) => [row.id, row]));
    this.defaultId = rows.find((row) => row.default)?.id ?? DEFAULT_CHANNEL;
    this.storedGeneration = generation;
    if (generation === this.generation) {
      this.loadedAt = startedAt;
    }
    // Adapters of channels deleted or changed since they were built are closed.
    for (const [id, built] of this.built) {
      if (this.rows.get(id)?.updatedAt.getTime() !== built.updatedAt) {
        this.retire(id, built);
      }
    }
  }
}
