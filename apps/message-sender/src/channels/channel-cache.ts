import type {
  SendingWindow,
  SmtpChannelConfig,
  TwilioChannelConfig,
  VonageChannelConfig,
} from "@tidings/contracts";
import type { MessageSenderConfig } from "../config.ts";
import type { Db } from "../db.ts";
import type { Channel as ChannelRow } from "../generated/prisma/client.ts";
import {
  type Channel,
  type Channels,
  DEFAULT_CHANNEL,
  type Logger,
  PermanentSendError,
} from "../outbound/channel.ts";
import { LogChannel } from "./log/adapter.ts";

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
}

interface Cached {
  row: ChannelRow;
  adapter: Channel;
}

/** Sending through a channel type with no adapter yet: a definite failure, not a retry loop. */
const unsupported = (type: string): Channel => ({
  send: async () => {
    throw new PermanentSendError(`channel type ${type} cannot send yet`);
  },
});

/**
 * The channels a worker sends through, built from the `channel` table and cached for `ttlMs`: a change made
 * through the API takes effect within that time (an adapter is rebuilt when its row's updated_at changes).
 * Channels given in code (`createMessageSenderService({channels})`) take precedence over rows of the same id.
 * Also where a throttled channel's pause is kept.
 */
export class ChannelRegistry {
  private cache = new Map<string, Cached>();
  private defaultId = DEFAULT_CHANNEL;
  private loadedAt = 0;
  private loading: Promise<void> | undefined;
  private readonly pausedUntil = new Map<string, number>();

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
    private readonly config: MessageSenderConfig,
    private readonly injected: Channels = {},
    private readonly ttlMs = config.CHANNEL_CACHE_TTL_MS,
  ) {}

  /** The channel to send through, or undefined when there is no such channel. */
  async get(id: string): Promise<ResolvedChannel | undefined> {
    await this.fresh();
    if (!this.cache.has(id) && !this.injected[id]) {
      await this.fresh(true); // a channel created since the last read
    }
    const cached = this.cache.get(id);
    const injected = this.injected[id];
    if (injected) {
      return {
        id,
        type: cached?.row.type ?? "custom",
        channel: injected,
        fallback: cached?.row.fallback ?? null,
        rateLimit: cached?.row.rateLimit ?? 0,
        concurrencyLimit: cached?.row.concurrencyLimit ?? 0,
        sendingWindow: (cached?.row.sendingWindow ?? null) as SendingWindow | null,
      };
    }
    return (
      cached && {
        id,
        type: cached.row.type,
        channel: cached.adapter,
        fallback: cached.row.fallback,
        rateLimit: cached.row.rateLimit,
        concurrencyLimit: cached.row.concurrencyLimit,
        sendingWindow: cached.row.sendingWindow as SendingWindow | null,
      }
    );
  }

  /** The default channel's id. */
  async defaultChannel(): Promise<string> {
    await this.fresh();
    return this.defaultId;
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

  async close(): Promise<void> {
    await Promise.allSettled([...this.cache.values()].map((c) => c.adapter.close?.()));
    this.cache.clear();
  }

  private async fresh(force = false): Promise<void> {
    if (!force && Date.now() - this.loadedAt < this.ttlMs) {
      return;
    }
    this.loading ??= this.load().finally(() => {
      this.loading = undefined;
    });
    await this.loading;
  }

  private async load(): Promise<void> {
    const rows = await this.db.channel.findMany();
    const next = new Map<string, Cached>();
    for (const row of rows) {
      const old = this.cache.get(row.id);
      if (old && old.row.updatedAt.getTime() === row.updatedAt.getTime()) {
        next.set(row.id, old);
        continue;
      }
      next.set(row.id, { row, adapter: await this.build(row) });
      if (old) {
        void old.adapter.close?.();
      }
    }
    for (const [id, old] of this.cache) {
      if (!next.has(id)) {
        void old.adapter.close?.();
      }
    }
    this.cache = next;
    this.defaultId = rows.find((r) => r.default)?.id ?? DEFAULT_CHANNEL;
    this.loadedAt = Date.now();
  }

  /** A channel's adapter; a provider's module (and its SDK, tens of MB) is loaded only once a channel uses it. */
  private async build(row: ChannelRow): Promise<Channel> {
    switch (row.type) {
      case "log":
        return new LogChannel(this.logger, this.config.LOG_CHANNEL_FILE);
      case "twilio": {
        const { TwilioChannel } = await import("./twilio/adapter.ts");
        return new TwilioChannel(row.id, row.configuration as unknown as TwilioChannelConfig);
      }
      case "vonage": {
        const { VonageChannel } = await import("./vonage/adapter.ts");
        const config = row.configuration as unknown as VonageChannelConfig;
        return new VonageChannel(row.id, config, config.status_callback);
      }
      case "smtp": {
        const { SmtpChannel } = await import("./smtp/adapter.ts");
        return new SmtpChannel(row.configuration as unknown as SmtpChannelConfig);
      }
      default:
        return unsupported(row.type);
    }
  }
}
