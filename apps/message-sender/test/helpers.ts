import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { Broker } from "@tidings/amqp";
import {
  catalog,
  DELAY_LEVELS_MS,
  type IdentityAddress,
  type IdentityChanged,
  type InboundReceived,
  type OptOutCreated,
  placeholdersOf,
  type QueueName,
  type Template,
} from "@tidings/contracts";
import { adminAuth, type Capture, type TestService, waitFor } from "@tidings/testing";
import { expect } from "vitest";
import type { MessageSenderConfig } from "../src/config.ts";
import type { Db } from "../src/db.ts";
import { outboundHistory } from "../src/helpdesk/history.ts";

export const address = (
  type: string,
  value: string,
  flags: Partial<Pick<IdentityAddress, "default" | "optedout" | "inactive" | "verified">> = {},
): IdentityAddress => ({
  type,
  address: value,
  default: false,
  optedout: false,
  inactive: false,
  verified: false,
  ...flags,
});

/** An identity.created/updated payload in the catalog example's shape, with a fresh id unless given one. */
export function identityEvent(
  addresses: IdentityAddress[],
  overrides: Partial<Omit<IdentityChanged, "addresses">> & { default_addr_type?: string } = {},
): IdentityChanged {
  const { default_addr_type, ...rest } = overrides;
  const example = catalog["identity.created"].example;
  return {
    ...example,
    id: randomUUID(),
    details: { ...example.details, default_addr_type: default_addr_type ?? "msisdn" },
    addresses,
    ...rest,
  };
}

/** Identity's `optout.created` of a `forget` of `identity`, whose one address was the number `address`. */
export const forgetting = (identity: string, address: string): OptOutCreated => ({
  id: randomUUID(),
  optout_type: "forget",
  identity,
  address_type: "msisdn",
  address,
  request_source: "helpdesk",
  requestor_source_id: null,
  reason: null,
  topic: null,
  created_at: new Date().toISOString(),
  identity_details: { addresses: { msisdn: { [address]: { default: true } } } },
});

/** Waits until outbound `id` has `status` (20 s at most); returns its row. */
/** An outbound's status history, oldest first, as `GET /api/v1/outbound/{id}/history/` answers it. */
export const historyOf = async (db: Db, id: string) => (await outboundHistory(db, id)).history;

/** The statuses of an outbound's history, oldest first. */
export const statusesOf = async (db: Db, id: string) => (await historyOf(db, id)).map((e) => e.status);

export const outboundReaching = (db: Db, id: string, status: string) =>
  waitFor(
    async () => {
      const row = await db.outbound.findUnique({ where: { id } });
      return row?.status === status && row;
    },
    { what: `outbound ${id} to be ${status}`, timeoutMs: 20_000 },
  );

/** Announces an identity with `addresses` (identity.created) and waits until message-sender's address book has it. */
export async function knownIdentity(
  svc: TestService<MessageSenderConfig, Db>,
  addresses: IdentityAddress[],
): Promise<IdentityChanged> {
  const identity = identityEvent(addresses);
  await svc.broker.publish("identity.created", identity);
  await waitFor(
    async () => !!(await svc.db.addressBookEntry.findUnique({ where: { identity: identity.id } })),
    { what: "the address book entry" },
  );
  return identity;
}

/** A sender message-sender knows: a new number (`from`) and the identity (`identity`) whose default address it is. */
export async function knownSender(svc: TestService<MessageSenderConfig, Db>) {
  const from = msisdn();
  return { from, identity: await knownIdentity(svc, [address("msisdn", from, { default: true })]) };
}

/**
 * Expects inbound `messageId` stored on `channel` (to `toAddr`) as a STOP of `identity`, who wrote from `from`, and
 * announced once by `inbound.received` from that number (the one identity opts out, whatever the channel).
 */
export async function expectStopFrom(
  svc: TestService<MessageSenderConfig, Db>,
  capture: Capture,
  stop: { messageId: string; channel: string; toAddr: string; identity: IdentityChanged; from: string },
): Promise<void> {
  const row = await svc.db.inbound.findFirstOrThrow({ where: { messageId: stop.messageId } });
  expect(row).toMatchObject({
    channel: stop.channel,
    fromIdentity: stop.identity.id,
    keyword: "stop",
    toAddr: stop.toAddr,
  });
  const received = () => capture.named<InboundReceived>("inbound.received").filter((r) => r.id === row.id);
  await waitFor(() => received().length === 1, { what: "inbound.received" });
  expect(received()[0]).toMatchObject({
    from_identity: stop.identity.id,
    from_addr: stop.from,
    keyword: "stop",
  });
}

/** The whole hour `offset` hours from now in `zone`, as a sending window's "HH:00". */
export const hourIn = (zone: string, offset: number): string => {
  const now = Number(new Date().toLocaleString("en-GB", { hour: "2-digit", hour12: false, timeZone: zone }));
  return `${String((now + offset + 24) % 24).padStart(2, "0")}:00`;
};

/**
 * Closes `channel` until a window two to three hours ahead in `zone` (quiet hours begin before outbound `id`'s planned
 * retry is due) and waits until the retry waits for the window to open; returns the outbound's row then.
 */
export async function retryDeferredByWindow(
  svc: TestService<MessageSenderConfig, Db>,
  channel: string,
  zone: string,
  id: string,
) {
  const patched = await svc.app.inject({
    method: "PATCH",
    url: `/api/v1/channel/${channel}/`,
    headers: adminAuth,
    payload: { sending_window: { start: hourIn(zone, 2), end: hourIn(zone, 3), timezone: zone } },
  });
  if (patched.statusCode !== 200) {
    throw new Error(`PATCH of ${channel}'s sending window answered ${patched.statusCode}: ${patched.body}`);
  }
  return waitFor(
    async () => {
      const row = await svc.db.outbound.findUniqueOrThrow({ where: { id } });
      return row.notBefore && row.notBefore.getTime() > Date.now() + 3_600_000 && row;
    },
    { what: "the retry deferred to the window's opening" },
  );
}

/** A fresh South African-looking number, so tests never share an address. */
export const msisdn = () => `+2782${String(Math.floor(Math.random() * 1e7)).padStart(7, "0")}`;

/**
 * Waits until a queue and the namespace's delay queues hold no ready message twice in a row, then a little longer for
 * handlers still running: for asserting that something did NOT happen once every copy was handled.
 */
export async function waitForIdle(broker: Broker, queue: QueueName): Promise<void> {
  const names = [
    broker.names.queue(queue),
    ...DELAY_LEVELS_MS.map((level) => broker.names.delayQueue(level)),
  ];
  const channel = await broker.channel();
  try {
    let quietChecks = 0;
    await waitFor(
      async () => {
        const counts = await Promise.all(names.map((n) => channel.checkQueue(n)));
        quietChecks = counts.every((c) => c.messageCount === 0) ? quietChecks + 1 : 0;
        return quietChecks >= 3;
      },
      { intervalMs: 100, what: `${queue} to be idle` },
    );
  } finally {
    await channel.close();
  }
  await sleep(200);
}

/** A Twilio account on a simulator: the credentials a channel needs and where the simulator listens. */
export interface SimulatedTwilioAccount {
  sid: string;
  token: string;
  url: string;
}

/**
 * Creates a Twilio channel on a simulator through `POST /api/v1/channel/` (expecting 201), sending from
 * +15005550006; `configuration` adds to the channel's configuration, `fields` to the request (fallback,
 * default, limits).
 */
export async function createTwilioChannel(
  app: {
    inject(options: {
      method: "POST";
      url: string;
      headers: Record<string, string>;
      payload: object;
    }): Promise<{ statusCode: number; body: string }>;
  },
  channelId: string,
  account: SimulatedTwilioAccount,
  configuration: Record<string, unknown> = {},
  fields: Record<string, unknown> = {},
): Promise<void> {
  const res = await app.inject({
    method: "POST",
    url: "/api/v1/channel/",
    headers: adminAuth,
    payload: {
      channel_id: channelId,
      channel_type: "twilio",
      configuration: {
        account_sid: account.sid,
        auth_token: account.token,
        from: "+15005550006",
        api_url: account.url,
        ...configuration,
      },
      ...fields,
    },
  });
  if (res.statusCode !== 201) {
    throw new Error(`creating channel ${channelId}: ${res.statusCode} ${res.body}`);
  }
}

/** What the key helpers need of a test service: its API. */
type WithApi = Pick<TestService<MessageSenderConfig, Db>, "app">;

/** A request to the service's API with an API key (`Token <key>`). */
export const callWithKey = (
  svc: WithApi,
  key: string,
  method: "GET" | "POST" | "PATCH" | "DELETE",
  url: string,
  payload?: object,
) =>
  svc.app.inject({
    method,
    url,
    headers: { authorization: `Token ${key}` },
    ...(payload ? { payload } : {}),
  });

/**
 * Issues a key of `kind` through `POST /api/v1/user/token/` (expecting 201) to a new user, or to the user of `email`;
 * returns the token.
 */
export async function issueKey(
  svc: WithApi,
  kind: "live" | "team" | "test",
  allowList?: string[],
  email = `${kind}-${randomUUID()}@example.org`,
): Promise<string> {
  const res = await svc.app.inject({
    method: "POST",
    url: "/api/v1/user/token/",
    headers: adminAuth,
    payload: {
      email,
      kind,
      ...(allowList && { allow_list: allowList }),
    },
  });
  if (res.statusCode !== 201) {
    throw new Error(`issuing a ${kind} key: ${res.statusCode} ${res.body}`);
  }
  return res.json().token;
}

let nextTemplateId = 100;

/** A content template id no test of this file used yet. */
export const newTemplateId = () => nextTemplateId++;

/** Publishes a template version as the content service does on every change; waits for the local copy. */
export async function publishTemplate(
  svc: TestService<MessageSenderConfig, Db>,
  fields: Partial<Template> & { body: string },
): Promise<Template> {
  const template: Template = {
    ...catalog["content.template.changed"].example,
    id: newTemplateId(),
    ...fields,
    placeholders: placeholdersOf(fields.subject ?? null, fields.body),
  };
  await svc.broker.publish("content.template.changed", template);
  await waitFor(
    () =>
      svc.db.templateCopy.findUnique({
        where: { id_version: { id: template.id, version: template.version } },
      }),
    { what: `template ${template.id} v${template.version} in the local copy` },
  );
  return template;
}

/** Runs `act` with the provider simulator accepting messages without a message id, and as before once it is done. */
export async function withoutMessageIds<T>(
  sim: { configure(settings: { omitMessageId: boolean }): void },
  act: () => Promise<T>,
): Promise<T> {
  sim.configure({ omitMessageId: true });
  try {
    return await act();
  } finally {
    sim.configure({ omitMessageId: false });
  }
}
