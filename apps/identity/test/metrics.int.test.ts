/** tidings_optouts_total: opt-outs counted once each, by request source and type, when their event is published. */
import { serviceTest, waitFor } from "@tidings/testing";
import { register } from "prom-client";
import { describe, expect } from "vitest";
import { sourceLabel } from "../src/metrics.ts";
import { identityService } from "../src/service.ts";
import { create, msisdn, send } from "./helpers.ts";

const it = serviceTest(identityService, { worker: true });

async function optOuts(): Promise<Record<string, number>> {
  const { values } = (await register.getSingleMetric("tidings_optouts_total")?.get()) ?? { values: [] };
  return Object.fromEntries(values.map((v) => [`${v.labels.source}/${v.labels.type}`, v.value]));
}

describe("tidings_optouts_total", () => {
  it("counts each recorded opt-out once, by source and type; a refused one not at all", async ({ svc }) => {
    const [a, b] = [msisdn(71), msisdn(71)];
    const identity = await create(svc, { details: { addresses: { msisdn: { [a]: {}, [b]: {} } } } });
    const optout = (payload: object) => send(svc, "POST", "/api/v1/optout/", payload);
    expect(
      (await optout({ address_type: "msisdn", address: a, request_source: "ussd_public" })).statusCode,
    ).toBe(201);
    expect(
      (await optout({ identity: identity.id, optout_type: "forget", request_source: "Hub App 2" }))
        .statusCode,
    ).toBe(201);
    expect(
      (await optout({ identity: identity.id, optout_type: "pause", request_source: "x" })).statusCode,
    ).toBe(400);
    await waitFor(async () => Object.values(await optOuts()).reduce((n, v) => n + v, 0) >= 2, {
      what: "both opt-outs counted",
    });
    expect(await optOuts()).toEqual({ "ussd_public/stop": 1, "other/forget": 1 });
  });
});

describe("sourceLabel", () => {
  it("keeps a short plain source, lower-cased; anything else, or past 50 distinct ones, is other", () => {
    expect(sourceLabel("SMS_Inbound")).toBe("sms_inbound");
    expect(sourceLabel("")).toBe("none");
    expect(sourceLabel("+27820001001")).toBe("other");
    expect(sourceLabel("27820001001")).toBe("other");
    for (let i = 0; i < 60; i++) {
      sourceLabel(`source-${i}`);
    }
    expect(sourceLabel("one-more")).toBe("other");
    expect(sourceLabel("sms_inbound")).toBe("sms_inbound"); // seen before: still itself
  });
});
