import { randomUUID } from "node:crypto";
import type { OutboundSend } from "@tidings/contracts";
import { type AcceptedSend, recordSends } from "../src/outbound/status.ts";
import { ClaimBatcher } from "../src/sending/claim-window.ts";
import { msisdn } from "./helpers.ts";
import type { Svc } from "./support.ts";

// Outbounds as a worker leaves them, with no worker running: stored and claimed, then sent (submitted, awaiting
// their final reports). Shared by the send recorder's and the final reports' tests.

/** `n` outbounds stored and claimed by `worker`. */
export async function claimedBy(svc: Svc, worker: string, n: number): Promise<OutboundSend[]> {
  const batcher = new ClaimBatcher(svc.db, worker, 30_000);
  try {
    const commands = Array.from({ length: n }, () => ({
      id: randomUUID(),
      to_addr: msisdn(),
      content: "Your results are ready",
      channel: "LOG",
      metadata: {},
    }));
    await Promise.all(commands.map((c) => batcher.claim(c, "LOG")));
    return commands;
  } finally {
    batcher.close();
  }
}

/** The provider's acceptance of a claimed outbound, with a provider id of its own. */
export const accepted = (command: OutboundSend, worker: string): AcceptedSend => ({
  id: command.id,
  worker,
  result: { providerId: `SM${randomUUID().replaceAll("-", "")}`, delivered: false },
  channel: "LOG",
  toIdentity: null,
  priority: "normal",
});

/** `n` outbounds submitted through LOG, each with its provider id. */
export async function submitted(svc: Svc, worker: string, n: number): Promise<AcceptedSend[]> {
  const sends = (await claimedBy(svc, worker, n)).map((c) => accepted(c, worker));
  await recordSends(svc.db, sends);
  return sends;
}
