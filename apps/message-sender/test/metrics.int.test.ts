/**
 * The message sender's business metrics: outbounds accepted, sent, delivered and failed (counted from the events the
 * relay published), by channel, priority and reason, and provider calls by outcome and error code, as the worker's
 * and the API's /metrics read them from prom-client's registry.
 */
import { adminAuth, serviceTest, waitFor } from "@tidings/testing";
import { register } from "prom-client";
import { describe, expect } from "vitest";
import { PermanentSendError } from "../src/outbound/channel.ts";
import { reasonLabel } from "../src/outbound/metrics.ts";
import { createMessageSenderService } from "../src/service.ts";
import { msisdn } from "./helpers.ts";

const it = serviceTest(
  createMessageSenderService({
    channels: () => ({
      // Accepts, delivered at once; and a provider refusing every message with its own error code.
      FINE: { send: async (o) => ({ providerId: `fine-${o.id}`, delivered: true }) },
      REFUSING: {
        send: async () => {
          throw new PermanentSendError("invalid 'To' number", 21211);
        },
      },
    }),
  }),
  { worker: true },
);

/** Every series of a metric in the default registry, as "label=value,... value". */
async function series(name: string): Promise<string[]> {
  const metric = register.getSingleMetric(name);
  if (!metric) {
    throw new Error(`no metric ${name}`);
  }
  const { values } = await metric.get();
  return values
    .filter((v) => {
      const sample = (v as { metricName?: string }).metricName;
      return sample === undefined || sample.endsWith("_count"); // a histogram: its count series
    })
    .map(
      (v) =>
        `${Object.entries(v.labels)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([k, l]) => `${k}=${l}`)
          .join(",")} ${v.value}`,
    )
    .sort();
}

describe("message metrics", () => {
  it("counts each outbound once at each step, with low-cardinality labels only", async ({ svc }) => {
    const post = (payload: object) =>
      svc.app.inject({ method: "POST", url: "/api/v1/outbound/", headers: adminAuth, payload });
    const to = msisdn();
    const fine = await post({ to_addr: to, content: "ok", metadata: {}, channel: "FINE", priority: "high" });
    const refused = await post({ to_addr: msisdn(), content: "no", metadata: {}, channel: "REFUSING" });
    expect([fine.statusCode, refused.statusCode]).toEqual([201, 201]);
    await waitFor(
      async () =>
        (await series("tidings_messages_failed_total")).length > 0 &&
        (await series("tidings_messages_delivered_total")).length > 0,
      {
        what: "both outcomes counted",
      },
    );
    expect(await series("tidings_messages_accepted_total")).toEqual([
      "channel=FINE,priority=high 1",
      "channel=REFUSING,priority=normal 1",
    ]);
    expect(await series("tidings_messages_sent_total")).toEqual(["channel=FINE,priority=high 1"]);
    expect(await series("tidings_messages_delivered_total")).toEqual(["channel=FINE,priority=high 1"]);
    expect(await series("tidings_messages_failed_total")).toEqual([
      "channel=REFUSING,priority=normal,reason=not_sent 1",
    ]);
    expect(await series("tidings_provider_errors_total")).toEqual([
      "channel=REFUSING,code=21211,type=custom 1",
    ]);
    expect(await series("tidings_provider_request_duration_seconds")).toEqual([
      "channel=FINE,outcome=accepted,type=custom 1",
      "channel=REFUSING,outcome=refused,type=custom 1",
    ]);
    // No address, no id in any label.
    const text = await register.metrics();
    expect(text).not.toContain(to);
    expect(text).not.toContain(fine.json().id);
  });
});

describe("reasonLabel", () => {
  it("maps a failure's reason to a fixed list", () => {
    const failed = (reason: string | null, provider_id: string | null = null) =>
      reasonLabel({ status: "failed", reason, provider_id });
    expect(failed("opted_out")).toBe("opted_out");
    expect(failed("no address")).toBe("no_address");
    expect(failed("twilio undelivered (error 30003)", "SM123")).toBe("provider_report");
    expect(failed("invalid 'To' number +27820001234")).toBe("not_sent");
    expect(reasonLabel({ status: "cancelled", reason: "something", provider_id: null })).toBe("cancelled");
    expect(reasonLabel({ status: "cancelled", reason: "forgotten", provider_id: null })).toBe("forgotten");
  });
});
