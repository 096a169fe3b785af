import type { ChannelInboundBody, CreateInboundBody, JunebugInboundBody } from "@tidings/contracts";
import type { ChannelCache } from "../channels/channel-cache.ts";
import { senderError } from "../errors.ts";
import type { ReceivedMessage } from "./inbound.ts";

// Seed's `POST /api/v1/inbound/` and `POST /api/v1/inbound/{channel_id}/`: the Vumi and Junebug messages their
// transports push, read as Seed's serializers read them.

/** Whether `id` is a channel: one given in code (`channelIds`) or one of the channel table. */
async function isChannel(
  channels: ChannelCache,
  channelIds: readonly string[],
  id: string,
): Promise<boolean> {
  return channelIds.includes(id) || (await channels.row(id)) !== undefined;
}

/** The channel named in the path; 404 MESSAGE_SENDER_CHANNEL_NOT_FOUND when there is none of that name. */
export async function inboundChannel(
  channels: ChannelCache,
  channelIds: readonly string[],
  id: string,
): Promise<string> {
  if (!(await isChannel(channels, channelIds, id))) {
    throw senderError("MESSAGE_SENDER_CHANNEL_NOT_FOUND", `No channel ${id}`);
  }
  return id;
}

/**
 * A Vumi message as Seed's InboundSerializer kept it: its `session_event` copied into `helper_metadata`; Vumi's
 * other fields (`transport_metadata`, `routing_metadata`, `timestamp`, ...) are not kept. `channel`: the one in the
 * path, else `transport_name` when it names a channel, else the default channel (null).
 */
export async function fromVumi(
  body: CreateInboundBody,
  channel: string | null,
  channels: ChannelCache,
  channelIds: readonly string[],
): Promise<ReceivedMessage> {
  const named = body.transport_name;
  return {
    channel: channel ?? (named && (await isChannel(channels, channelIds, named)) ? named : null),
    messageId: body.message_id ?? null,
    inReplyTo: body.in_reply_to ?? null,
    fromAddr: body.from_addr,
    toAddr: body.to_addr ?? "",
    content: body.content ?? null,
    transportName: named ?? null,
    transportType: body.transport_type ?? null,
    helperMetadata: withSessionEvent(body.helper_metadata, body.session_event),
  };
}

/** A Junebug message as Seed's JunebugInboundSerializer read it (`reply_to`, `to`, `channel_id`, `channel_data`). */
export function fromJunebug(body: JunebugInboundBody, channel: string): ReceivedMessage {
  return {
    channel,
    messageId: body.message_id ?? null,
    inReplyTo: body.reply_to ?? null,
    fromAddr: body.from,
    toAddr: body.to ?? "",
    content: body.content ?? null,
    transportName: body.channel_id ?? channel,
    transportType: null,
    helperMetadata: { ...(body.channel_data ?? {}) },
  };
}

/** `POST /api/v1/inbound/{channel_id}/`: a Junebug message has `from`, a Vumi one `from_addr`. */
export const isJunebug = (body: ChannelInboundBody): body is JunebugInboundBody => "from" in body;

function withSessionEvent(
  helperMetadata: Record<string, unknown> | null | undefined,
  sessionEvent: string | null | undefined,
): Record<string, unknown> {
  return { ...(helperMetadata ?? {}), ...(sessionEvent ? { session_event: sessionEvent } : {}) };
}
