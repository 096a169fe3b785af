import type { Db } from "../../db.ts";

// The WhatsApp customer-service window: a business may send free text to a person for 24 hours after that person's
// last message to it; outside it, only approved templates. Tracked per channel and address from inbound messages.

export const SESSION_WINDOW_MS = 24 * 3600_000;

/** A person (E.164 address) wrote to a WhatsApp channel at `at`: their window runs from then (never moves back). */
export async function noteInbound(db: Db, channel: string, address: string, at = new Date()): Promise<void> {
  await db.$executeRaw`
    INSERT INTO whatsapp_session (channel, address, last_inbound_at) VALUES (${channel}, ${address}, ${at})
    ON CONFLICT (channel, address) DO UPDATE
      SET last_inbound_at = GREATEST(whatsapp_session.last_inbound_at, excluded.last_inbound_at)`;
}

/** Whether free text may be sent to `address` through `channel` now: it wrote within the last 24 hours. */
export async function insideWindow(
  db: Db,
  channel: string,
  address: string,
  now = new Date(),
): Promise<boolean> {
  const session = await db.whatsappSession.findUnique({
    where: { channel_address: { channel, address } },
    select: { lastInboundAt: true },
  });
  return session !== null && now.getTime() - session.lastInboundAt.getTime() < SESSION_WINDOW_MS;
}

/** A WhatsApp address (`whatsapp:+27…`) as the E.164 number it is. */
export const fromWhatsapp = (address: string) => address.replace(/^whatsapp:/, "");
