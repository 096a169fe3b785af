import { describe, expect, it } from "vitest";
import {
  assertHookData,
  assertPayload,
  catalog,
  type HookEventDefinition,
  type HookEventName,
  hookEventNames,
  hookEvents,
  hookEventsOf,
  hookOfMessage,
  InvalidPayloadError,
  isMessageName,
  messageNames,
  namesFor,
  type QueueName,
  queueNames,
  queues,
  routingKey,
  routingKeysFor,
  validatorFor,
} from "../src/index.ts";

/** The routing keys a queue is bound with: its bindings, else its message names. */
const bindingsOf = (q: QueueName): readonly string[] => {
  const def = queues[q];
  return "bindings" in def ? def.bindings : def.messages;
};

const IDENTITY = catalog["identity.deleted"].example.id;

const SEED_EVENT_NAMES = new Set(["identity.max_failures"]);

describe("message catalog", () => {
  it.each(messageNames)("%s: its example validates", (name) => {
    expect(validatorFor(name)(catalog[name].example)).toBe(true);
  });

  it.each(messageNames)("%s: names follow <entity>.<verb> and its kind", (name) => {
    expect(name).toMatch(/^[a-z]+(\.[a-z_-]+)+$/);
    const verb = name.split(".").at(-1) ?? "";
    // Seed's own event names are kept where hubs know them (identity.max_failures).
    const looksPast = /(ed|_report|fired)$/.test(verb) || SEED_EVENT_NAMES.has(name);
    expect(looksPast).toBe(catalog[name].kind === "event");
  });

  it("rejects a payload missing a required field, naming it", () => {
    const { id: _id, ...rest } = catalog["outbound.send"].example;
    expect(() => assertPayload("outbound.send", rest)).toThrow(InvalidPayloadError);
    expect(() => assertPayload("outbound.send", rest)).toThrow(/id/);
  });

  it("rejects wrong types and bad formats", () => {
    expect(validatorFor("schedule.fired")({ ...catalog["schedule.fired"].example, slot: "yesterday" })).toBe(
      false,
    );
    expect(validatorFor("identity.deleted")({ id: 42 })).toBe(false);
  });

  it("knows its own names", () => {
    expect(isMessageName("outbound.send")).toBe(true);
    expect(isMessageName("outbound.nope")).toBe(false);
  });
});

describe("hook events", () => {
  it.each(hookEventNames)("%s: has a schema, and its example validates", (name) => {
    expect(assertHookData(name, hookEvents[name].example)).toBe(hookEvents[name].example);
  });

  it("a hook event published with its message shares the message's schema and service", () => {
    for (const name of hookEventNames) {
      const hook: HookEventDefinition = hookEvents[name];
      if (hook.message) {
        const message = catalog[name as keyof typeof catalog];
        expect(hook.schema, name).toBe(message.schema);
        expect(hook.service, name).toBe(message.exchange);
        expect(hookOfMessage(name as keyof typeof catalog)).toBe(name);
      }
    }
    // schedule.fired's hook carries the run, not the broker message: publishing the message delivers no hook.
    expect(hookOfMessage("schedule.fired")).toBeUndefined();
    expect(hookOfMessage("optout.created")).toBeUndefined();
    // message-sender's hooks carry Seed's bodies, not its broker messages of the same names.
    for (const name of ["outbound.delivery_report", "outbound.failed", "inbound.received"] as const) {
      expect(hookOfMessage(name)).toBeUndefined();
    }
  });

  it("lists each service's events; Seed's raw events go to the acting user's hooks without an envelope", () => {
    expect(hookEventsOf("identity")).toContain("optout.requested");
    expect(hookEventsOf("content")).toEqual([]);
    expect(hookEventsOf("message-sender")).toEqual([
      "outbound.delivery_report",
      "outbound.failed",
      "inbound.received",
      "identity.no_address",
    ]);
    for (const name of ["optout.requested", "optin.requested"] as const) {
      expect(hookEvents[name]).toMatchObject({ audience: "actor", body: "raw" });
    }
  });

  it("rejects an event without a schema, and data its schema refuses", () => {
    expect(() => assertHookData("identity.exploded" as HookEventName, {})).toThrow(/not a hook event/);
    expect(() => assertHookData("optout.requested", { identity: IDENTITY })).toThrow(InvalidPayloadError);
    const withoutSchema = {
      service: "identity",
      example: {},
      description: "no schema",
      audience: "all",
      body: "envelope",
    } as const;
    // @ts-expect-error: a hook event needs a schema (checked by `pnpm typecheck`)
    const definition: HookEventDefinition = withoutSchema;
    expect(definition.schema).toBeUndefined();
  });
});

describe("topology", () => {
  it("binds every queue to at least one catalogued message", () => {
    for (const name of queueNames) {
      expect(queues[name].messages.length, name).toBeGreaterThan(0);
      for (const message of queues[name].messages) {
        expect(isMessageName(message), `${name} <- ${message}`).toBe(true);
      }
    }
  });

  it("routes every command (each lane of it) to exactly one queue, owned by the command's exchange service", () => {
    for (const name of messageNames.filter((n) => catalog[n].kind === "command")) {
      for (const key of routingKeysFor(name)) {
        const consumers = queueNames.filter((q) => bindingsOf(q).includes(key));
        expect(consumers, key).toHaveLength(1);
        expect(queues[consumers[0] as (typeof queueNames)[number]].consumer).toBe(catalog[name].exchange);
      }
    }
  });

  it("routes a message with lanes by its lane field, the default lane under the plain name", () => {
    const example = catalog["outbound.send"].example;
    expect(routingKey("outbound.send", example)).toBe("outbound.send");
    expect(routingKey("outbound.send", { ...example, priority: "normal" })).toBe("outbound.send");
    expect(routingKey("outbound.send", { ...example, priority: "high" })).toBe("outbound.send.high");
    expect(routingKey("outbound.send", { ...example, priority: "bulk" })).toBe("outbound.send.bulk");
    expect(routingKey("identity.created", { priority: "high" })).toBe("identity.created");
    expect(routingKeysFor("outbound.send").sort()).toEqual([
      "outbound.send",
      "outbound.send.bulk",
      "outbound.send.high",
    ]);
    // A topic publish's delivery report goes apart: only subscription's topic queue wants those alone.
    const report = catalog["outbound.delivery_report"].example;
    expect(routingKey("outbound.delivery_report", report)).toBe("outbound.delivery_report");
    expect(routingKey("outbound.delivery_report", { ...report, source: "topic" })).toBe(
      "outbound.delivery_report.topic",
    );
    expect(bindingsOf("subscription.topic-deliveries")).toEqual(["outbound.delivery_report.topic"]);
    expect([...bindingsOf("identity.delivery-reports")].sort()).toEqual([
      "outbound.delivery_report",
      "outbound.delivery_report.topic",
    ]);
  });

  it("names queues <consumer>.<purpose>", () => {
    for (const name of queueNames) {
      expect(name.startsWith(`${queues[name].consumer}.`)).toBe(true);
    }
  });

  it("prefixes every name with the namespace", () => {
    const names = namesFor("t1");
    expect(names.exchange("identity")).toBe("t1.identity");
    expect(names.queue("message-sender.outbound-send")).toBe("t1.message-sender.outbound-send");
    expect(names.deadLetterQueue("subscription.send-next")).toBe("t1.subscription.send-next.dlq");
    expect(names.delayQueue(5_000)).toBe("t1.tidings.delay-5000");
    expect(namesFor().delayExchange()).toBe("tidings.delay");
  });

  it("declares at most 50 queues per namespace: each consumer queue and its DLQ, and a few shared delay queues", async () => {
    const { declaredQueues, DELAY_LEVELS_MS, MAX_QUEUES_PER_NAMESPACE } = await import("../src/index.ts");
    const declared = declaredQueues(namesFor("t1"));
    expect(MAX_QUEUES_PER_NAMESPACE).toBe(50);
    expect(declared.length).toBeLessThanOrEqual(MAX_QUEUES_PER_NAMESPACE);
    expect(declared.length).toBe(queueNames.length * 2 + DELAY_LEVELS_MS.length);
    expect(DELAY_LEVELS_MS.length).toBeLessThanOrEqual(8);
    expect(new Set(declared).size).toBe(declared.length);
  });

  it("has a delay level covering every retry policy's delays, and picks the shortest that covers a wait", async () => {
    const { DELAY_LEVELS_MS, delayLevelFor } = await import("../src/index.ts");
    for (const name of queueNames) {
      for (const delay of queues[name].retry.delaysMs) {
        expect(DELAY_LEVELS_MS, `${name} ${delay} ms`).toContain(delayLevelFor(delay));
        expect(delayLevelFor(delay)).toBeGreaterThanOrEqual(delay);
      }
    }
    expect(delayLevelFor(100)).toBe(1_000);
    expect(delayLevelFor(1_000)).toBe(1_000);
    expect(delayLevelFor(1_001)).toBe(5_000);
    expect(delayLevelFor(10_000_000)).toBe(DELAY_LEVELS_MS.at(-1));
  });
});

describe("deterministicId", () => {
  it("is a stable, valid v5 uuid that depends on every part", async () => {
    const { deterministicId } = await import("../src/index.ts");
    const id = deterministicId("sub", 1, 2);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(deterministicId("sub", 1, 2)).toBe(id);
    expect(deterministicId("sub", 1, 3)).not.toBe(id);
    expect(deterministicId("sub", 12)).not.toBe(deterministicId("sub1", 2));
  });
});

describe("retryDelay", () => {
  it("grows with the attempt, repeats the last delay, and spreads by the jitter", async () => {
    const { retryDelay } = await import("../src/index.ts");
    const policy = { delaysMs: [100, 1000], jitter: 0.2 };
    expect(retryDelay(policy, 1, 0.5)).toBe(100);
    expect(retryDelay(policy, 2, 0.5)).toBe(1000);
    expect(retryDelay(policy, 7, 0.5)).toBe(1000);
    expect(retryDelay(policy, 2, 0)).toBe(800);
    expect(retryDelay(policy, 2, 0.999999)).toBe(1200);
    expect(retryDelay({ delaysMs: [100], jitter: 0 }, 1, 0.9)).toBe(100);
  });
});
