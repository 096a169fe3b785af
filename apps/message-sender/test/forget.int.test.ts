/**
 * A forget (identity's `optout.created` of type `forget`) clears the sender of the person's inbounds, also those stored
 * against their number before the sender was taken as sends are addressed, as a Vumi or Junebug gateway gave it:
 * without its `+`.
 */
import { randomUUID } from "node:crypto";
import { serviceTest } from "@tidings/testing";
import { describe, expect } from "vitest";
import { forgetPerson } from "../src/forget/forget.ts";
import { messageSenderService } from "../src/service.ts";
import { forgetting, msisdn } from "./helpers.ts";

const it = serviceTest(messageSenderService);

describe("forgetPerson", () => {
  it("clears the person's inbounds stored by their number, with or without its +, and no one else's", async ({
    svc,
  }) => {
    const number = msisdn();
    const bystander = msisdn();
    const inbound = (fromAddr: string) => ({
      id: randomUUID(),
      channel: "LOG",
      fromAddr,
      content: `STOP from ${fromAddr}`,
      helperMetadata: { from: fromAddr },
    });
    const rows = [inbound(number), inbound(number.slice(1)), inbound(bystander.slice(1))];
    await svc.db.inbound.createMany({ data: rows });

    expect(await forgetPerson(svc.db, forgetting(randomUUID(), number))).toMatchObject({ inbounds: 2 });
    const after = await svc.db.inbound.findMany({
      where: { id: { in: rows.map((r) => r.id) } },
      select: { id: true, fromAddr: true, content: true, helperMetadata: true },
    });
    const byId = new Map(after.map((r) => [r.id, r]));
    expect(rows.map((r) => byId.get(r.id))).toEqual([
      { id: rows[0]?.id, fromAddr: "", content: null, helperMetadata: {} },
      { id: rows[1]?.id, fromAddr: "", content: null, helperMetadata: {} },
      {
        id: rows[2]?.id,
        fromAddr: bystander.slice(1),
        content: rows[2]?.content,
        helperMetadata: rows[2]?.helperMetadata,
      },
    ]);
  });
});
