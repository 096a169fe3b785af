import {
  ChannelParams,
  ChannelResponse,
  ListQuery,
  PatchChannelBody,
  type RedeliveryPolicy,
} from "@tidings/contracts";
import { type Api, crudRoutes, requireAdmin, routeError } from "@tidings/service-kit";
import {
  createChannel,
  deleteChannel,
  getChannel,
  listChannels,
  patchChannel,
} from "../channels/channel-admin.ts";
import type { ChannelCache } from "../channels/channel-cache.ts";
import { CreateChannelBody } from "../channels/channel-types.ts";
import type { Db } from "../db.ts";

/**
 * Creating, changing and deleting a channel is for admin keys only (a channel holds provider credentials and
 * decides where they are sent): checked before the body is validated, so any other key gets 403 and nothing else.
 */
const adminOnly = async (request: Parameters<typeof requireAdmin>[0]) => requireAdmin(request);

/**
 * `channels`: this process's channel cache, cleared by every change made here (so it is seen at once). Reading
 * channels is open to every key (secrets are masked); changing them is admin only. `redelivery`: the policy of
 * channels that set none of their own.
 */
export function channelRoutes(
  app: Api,
  { db, channels, redelivery }: { db: Db; channels: ChannelCache; redelivery: RedeliveryPolicy },
): void {
  crudRoutes(app, {
    path: "/api/v1/channel/",
    tags: ["channel"],
    params: ChannelParams,
    item: ChannelResponse,
    guardWrites: adminOnly,
    create: {
      summary: "Create a channel (configuration validated by channel_type; secrets are write-only) (admin)",
      description:
        "`{channel_id, channel_type, configuration, default?, concurrency_limit?, rate_limit?, fallback?, sending_window?}`; `configuration` is validated by `channel_type` (twilio, twilio-voice, twilio-whatsapp, vonage, vonage-voice, vonage-whatsapp, smtp, log); twilio-voice and vonage-voice channels place calls that play `metadata.voice_speech_url`, and a twilio-whatsapp or vonage-whatsapp channel's `fallback` is also where its accepted sends go by SMS when WhatsApp refuses them as undeliverable or no receipt comes within its `redelivery.no_report_timeout_seconds`. Answers 201 with secrets shown as `********`; `default: true` makes it the only default. Admin keys only: any other key gets 403 before its body is read.",
      body: CreateChannelBody,
      responses: { 409: routeError("MESSAGE_SENDER_CHANNEL_EXISTS: a channel with this channel_id exists.") },
      run: async (body) => {
        const item = await createChannel(db, body, redelivery);
        channels.invalidate();
        return { item, location: item.channel_id };
      },
    },
    list: {
      summary: "List channels",
      description:
        "Every channel with its type, limits, fallback and sending window; secrets masked as `********`. Any key.",
      query: ListQuery,
      run: (_query, page) => listChannels(db, page, redelivery),
    },
    get: {
      summary: "Get a channel",
      description: "One channel by its `channel_id`, secrets masked as `********`.",
      run: (id) => getChannel(db, id, redelivery),
    },
    update: {
      summary:
        "Change a channel (configuration is merged; `default: true` makes it the only default) (admin)",
      description:
        "`configuration` is merged into the stored one (a secret left out or sent as `********` keeps its value; `null` removes a field) and the result validated. Changing where requests or callbacks go needs every secret given again (400 MESSAGE_SENDER_SECRETS_REQUIRED). Admin keys only.",
      body: PatchChannelBody,
      run: async (id, body) => {
        const channel = await patchChannel(db, id, body, redelivery);
        channels.invalidate();
        return channel;
      },
    },
    remove: {
      summary: "Delete a channel (not LOG, not the default) (admin)",
      description:
        "204; LOG and the default channel cannot be deleted (409). Channels falling back to it lose their fallback. Admin keys only.",
      responses: {
        409: routeError(
          "MESSAGE_SENDER_CHANNEL_BUILT_IN (LOG) or MESSAGE_SENDER_CHANNEL_IS_DEFAULT: it cannot be deleted.",
        ),
      },
      run: async (id) => {
        await deleteChannel(db, id);
        channels.invalidate();
      },
    },
  });
}
