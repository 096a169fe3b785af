import type { OutboundPriority, OutboundSend, SendingWindow } from "@tidings/contracts";
import { statement } from "@tidings/db";
import { addressHash, optedOutSql } from "../consent/consent.ts";
import type { Db } from "../db.ts";
import { GroupCommit } from "../group-commit.ts";
import { identityWithAddressSql } from "../recipients/address-book.ts";

// A worker's window of `outbound.send` messages, stored and claimed together: the handlers that want a claim at
// the same time share one statement (a group commit, as the API's OutboundWriter stores accepted sends). Only
// handlers holding a send permit ask for a claim, so a claim is taken only for a send that can start now, not
// for one that would wait in this process (for connections, channel slots) while its claim runs out.

/** What sending a claimed outbound needs. */
export interface Claimed {
  channel: string;
  to_addr: string;
  to_identity: string | null;
  content: string | null;
  metadata: Record<string, unknown>;
  priority: OutboundPriority;
  sending_window: SendingWindow | null;
  not_before: Date | null;
  expires_at: Date | null;
  created_at: Date;
  /** Sent with a test key (through the log channel): not counted against the recipient's daily cap. */
  test: boolean;
  /** The content template (and version) it was rendered from, if any: a WhatsApp send's template comes from it. */
  template: number | null;
  template_version: number | null;
  /** The worker of an earlier claim that did not end in a known outcome (null: never claimed, or cleared). */
  previous_worker: string | null;
  previous_until: Date | null;
  /** Stored by this statement (a new outbound from outbound.send), not claimed from the table. */
  inserted: boolean;
  /** When our claim began, local time taken before the statement; a renewal (`renewClaim`) moves it on. */
  claim: ClaimClock;
  /** What the claim's statement read of the recipient it was asked about (see ClaimBatcher.claim); null: none. */
  checked: RecipientCheck | null;
}

/** A recipient's consent and address-book identity, as the statement that claimed its outbound read them. */
export interface RecipientCheck {
  /** The normalised address they were read for. */
  recipient: string;
  optedOut: boolean;
  /**
   * The address book's identity with this address (null: none), read only for an outbound with no identity of its
   * own (the only one that is linked to one: sendClaimed's linkIdentity).
   */
  identity: string | null;
}

/** When a claim began: local time taken before the statement that claimed it, so never later than the database's. */
export interface ClaimClock {
  at: number;
}

/** Not claimed: its status (null: not found, stored meanwhile by another worker) and who holds its claim. */
export interface NotClaimed {
  status: string | null;
  claimedBy: string | null;
}

const PRIORITY_RANK: Record<OutboundPriority, number> = { high: 0, normal: 1, bulk: 2 };

/**
 * The sends a worker runs at once, across its three lanes: a handler runs (and claims) only with a permit, and a
 * freed permit goes to the waiting high-priority handler first, then normal, then bulk.
 */
export class SendPermits {
  private readonly waiting: (() => void)[][] = [[], [], []];

  constructor(private free: number) {}

  async run<T>(priority: OutboundPriority, work: () => Promise<T>): Promise<T> {
    if (this.free > 0) {
      this.free--;
    } else {
      await new Promise<void>((resolve) => this.waiting[PRIORITY_RANK[priority]]?.push(resolve));
    }
    try {
      return await work();
    } finally {
      const next = this.waiting.find((queue) => queue.length > 0)?.shift();
      if (next) {
        next();
      } else {
        this.free++;
      }
    }
  }
}

/** The most outbounds one statement claims. */
const MAX_BATCH = 100;
/** Statements in flight at once; claims asked for meanwhile gather for the next. */
const MAX_WRITES = 2;

/** One outbound.send as stored if new: every column given (its channel resolved). */
type ClaimInput = { recipient: string | null; recipient_hash: string | null } & Required<
  Pick<OutboundSend, "id" | "to_addr" | "metadata" | "priority" | "sensitive" | "channel">
> &
  Pick<
    OutboundSend,
    | "to_identity"
    | "content"
    | "resend"
    | "sending_window"
    | "not_before"
    | "expires_at"
    | "created_by_schedule"
    | "created_by_subscription"
    | "sequence_number"
  >;

type Row = Omit<Claimed, "claim" | "checked"> & {
  id: string;
  state: "claimed" | "stored" | "other";
  checked_recipient: string | null;
  checked_opted_out: boolean;
  checked_identity: string | null;
} & NotClaimed;

/**
 * Stores and claims outbounds, many in one statement: those asked for in the same turn (the deliveries of one
 * socket read), or while statements are in flight, go together in the next (a GroupCommit). Each statement is
 * atomic; a failed statement of several is retried one outbound at a time, so only the one at fault fails. Another
 * delivery of an id waits for the statement that has it, and then finds the outbound it stored or claimed.
 *
 * It keeps the claims it took while their sends are in progress (until `release`): every third of the claim's
 * term one statement renews them all, each only while it is still ours and live, so a send that waits in this
 * process (for a connection, the channel's slot or rate) does not see its claim lapse and another worker take the
 * outbound over.
 */
export class ClaimBatcher {
  private readonly group = new GroupCommit<ClaimInput, Claimed | NotClaimed>({
    maxBatch: MAX_BATCH,
    maxWrites: MAX_WRITES,
    key: (input) => input.id,
    write: (inputs) => this.write(inputs),
  });
  /** The claims of the sends in progress, by outbound id. */
  private readonly held = new Map<string, ClaimClock>();
  private readonly renewal: NodeJS.Timeout;

  constructor(
    private readonly db: Db,
    private readonly worker: string,
    private readonly ttlMs: number,
  ) {
    // A failed renewal leaves the claims as they were: a send checks its claim before it calls the provider.
    this.renewal = setInterval(() => void this.renewHeld().catch(() => undefined), ttlMs / 3);
    this.renewal.unref();
  }

  /**
   * Stores the outbound if it is new and claims it if it is queued and unclaimed (or its claim lapsed). With a
   * `recipient` (the normalised address it will be sent to, when the command names one), the same statement reads
   * that address's consent and its address-book identity, which the send would otherwise read on its own.
   */
  claim(command: OutboundSend, defaultChannel: string, recipient?: string): Promise<Claimed | NotClaimed> {
    return this.group.add(claimInput(command, defaultChannel, recipient));
  }

  /** The send of a claim ended (recorded, released, deferred or failed): its claim is no longer renewed. */
  release(id: string, claim: ClaimClock): void {
    if (this.held.get(id) === claim) {
      this.held.delete(id);
    }
  }

  /** Renews our live claims on `ids` (see renewClaims), moving their clocks on. */
  async renew(ids: string[], clocks: Map<string, ClaimClock> = this.held): Promise<Set<string>> {
    const at = Date.now();
    const renewed = await renewClaims(this.db, this.worker, this.ttlMs, ids);
    for (const id of renewed) {
      const clock = clocks.get(id);
      if (clock) {
        clock.at = Math.max(clock.at, at);
      }
    }
    return renewed;
  }

  close(): void {
    clearInterval(this.renewal);
  }

  private async renewHeld(): Promise<void> {
    if (this.held.size > 0) {
      const clocks = new Map(this.held);
      await this.renew([...clocks.keys()], clocks);
    }
  }

  private async write(inputs: ClaimInput[]): Promise<(Claimed | NotClaimed)[]> {
    const at = Date.now();
    const claim = claimStatement(inputs, this.worker, this.ttlMs);
    const rows = await statement<Row>(this.db, claim.text, claim.values);
    const byId = new Map(rows.map((row) => [row.id, row]));
    return inputs.map((input) => {
      const row = byId.get(input.id);
      if (row?.state === "claimed" || row?.state === "stored") {
        const { id: _id, state, status: _status, claimedBy: _by, ...rest } = row;
        const {
          checked_recipient: recipient,
          checked_opted_out: optedOut,
          checked_identity: identity,
          ...claimed
        } = rest;
        const claim = { at };
        this.held.set(input.id, claim);
        const checked = recipient === null ? null : { recipient, optedOut, identity };
        return { ...claimed, inserted: state === "stored", claim, checked };
      }
      return { status: row?.status ?? null, claimedBy: row?.claimedBy ?? null };
    });
  }
}

/** A command as the claim statement stores it: every column given, its channel resolved. */
export function claimInput(command: OutboundSend, defaultChannel: string, recipient?: string): ClaimInput {
  return {
    ...command,
    to_addr: command.to_addr ?? "",
    channel: command.channel ?? defaultChannel,
    priority: command.priority ?? "normal",
    sensitive: command.sensitive ?? false,
    recipient: recipient ?? null,
    recipient_hash: recipient ? addressHash(recipient).toString("hex") : null,
  };
}

/**
 * ONE statement: claims the stored outbounds that are queued with no live claim (locked in id order, the
 * compare-and-set that lets exactly one worker go on), inserts the new ones already claimed (a concurrent
 * insert of the same id wins, and this one claims nothing), and reads the status of the rest. The outbounds are
 * read by primary key, `id = ANY(ARRAY(...))`: with `IN (SELECT id FROM input)` (jsonb_to_recordset counts as 100
 * rows) the planner hash-joined a scan of the whole table, 6 ms a claim at 20,000 outbounds (EXPLAIN ANALYZE).
 * The claim writes only claimed_by and claimed_until, which no index holds, so it is a HOT update (no index entry;
 * see migration outbound_hot_updates); it leaves updated_at alone: a claim changes nothing an outbound shows.
 */
export function claimStatement(
  inputs: ClaimInput[],
  worker: string,
  ttlMs: number,
): { text: string; values: unknown[] } {
  const columns = `state, channel, to_addr, to_identity::text, content, metadata, priority::text AS priority,
    sending_window, not_before, expires_at, created_at, test, template, template_version`;
  return {
    text: `WITH input AS (
      SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(
        id uuid, to_addr text, to_identity uuid, content text, channel text, metadata jsonb, resend boolean,
        priority outbound_priority, sending_window jsonb, not_before timestamptz, expires_at timestamptz,
        created_by_schedule uuid, created_by_subscription uuid, sequence_number int, sensitive boolean,
        recipient text, recipient_hash text)
    ), claimable AS (
      SELECT id, claimed_by AS previous_worker, claimed_until AS previous_until FROM outbound
      WHERE id = ANY(ARRAY(SELECT id FROM input)) AND status = 'queued' AND (claimed_until IS NULL OR claimed_until < now())
      ORDER BY id FOR UPDATE
    ), claimed AS (
      UPDATE outbound o
      SET claimed_by = $2, claimed_until = now() + make_interval(secs => $3::float8)
      FROM claimable c WHERE o.id = c.id
      RETURNING o.id, 'claimed' AS state, o.channel, o.to_addr, o.to_identity, o.content, o.metadata, o.priority,
        o.sending_window, o.not_before, o.expires_at, o.created_at, o.test, o.template, o.template_version, c.previous_worker,
        c.previous_until
    ), stored AS (
      INSERT INTO outbound (id, to_addr, to_identity, content, channel, metadata, resend, priority, sending_window,
                            not_before, expires_at, created_by_schedule, created_by_subscription, sequence_number,
                            sensitive, claimed_by, claimed_until)
      SELECT id, to_addr, to_identity, content, channel, metadata, resend, priority, sending_window, not_before,
        expires_at, created_by_schedule, created_by_subscription, sequence_number, sensitive, $2,
        now() + make_interval(secs => $3::float8)
      FROM input i
      ORDER BY id
      ON CONFLICT (id) DO NOTHING
      RETURNING id, 'stored' AS state, channel, to_addr, to_identity, content, metadata, priority, sending_window,
        not_before, expires_at, created_at, test, NULL::int AS template, NULL::int AS template_version,
        NULL::text AS previous_worker, NULL::timestamptz AS previous_until
    ), result AS (
      SELECT id::text, ${columns}, previous_worker, previous_until, NULL::text AS status, NULL AS "claimedBy"
        FROM claimed
      UNION ALL
      SELECT id::text, ${columns}, previous_worker, previous_until, NULL::text, NULL FROM stored
      UNION ALL
      SELECT id::text, 'other', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
        NULL, status::text, claimed_by
        FROM outbound WHERE id = ANY(ARRAY(SELECT id FROM input))
          AND id NOT IN (SELECT id FROM claimed) AND id NOT IN (SELECT id FROM stored)
    )
    SELECT r.*, i.recipient AS checked_recipient,
      ${optedOutSql("decode(i.recipient_hash, 'hex')")} AS checked_opted_out,
      CASE WHEN i.recipient IS NOT NULL AND r.to_identity IS NULL AND r.state <> 'other'
        THEN ${identityWithAddressSql("i.recipient")} END AS checked_identity
    FROM result r JOIN input i ON i.id::text = r.id`,
    values: [JSON.stringify(inputs), worker, ttlMs / 1000],
  };
}

/**
 * ONE statement: extends each of our claims on `ids` by the claim's whole term, only while it is still ours and
 * live (so no other worker can have taken the outbound over meanwhile). The ids renewed.
 */
export async function renewClaims(
  db: Db,
  worker: string,
  ttlMs: number,
  ids: string[],
): Promise<Set<string>> {
  const renewed = await db.$queryRaw<{ id: string }[]>`
    UPDATE outbound SET claimed_until = now() + make_interval(secs => ${ttlMs / 1000}::float8)
    WHERE id = ANY(${ids}::uuid[]) AND status = 'queued' AND claimed_by = ${worker} AND claimed_until > now()
    RETURNING id::text`;
  return new Set(renewed.map((row) => row.id));
}
