import {
  ChannelParams,
  ChannelResponse,
  ListQuery,
  Paginated,
  PatchChannelBody,
  type RedeliveryPolicy,
} from "@tidings/contracts";
import { type Api, errorResponses, pageParams, requireAdmin, routeError, toPage } from "@tidings/service-kit";
import Type from "typebox";
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
  app.post(
    "/api/v1/channel/",
    {
      preValidation: adminOnly,
      schema: {
        tags: ["channel"],
        summary: "Create a channel (configuration validated by channel_type; secrets are write-only) (admin)",
        description:
          "`{channel_id, channel_type, configuration, default?, concurrency_limit?, rate_limit?, fallback?, sending_window?}`; `configuration` is validated by `channel_type` (twilio, twilio-whatsapp, vonage, smtp, log); a twilio-whatsapp channel's `fallback` is also where its accepted sends go by SMS when WhatsApp refuses them as undeliverable or no receipt comes within its `redelivery.no_report_timeout_seconds`. Answers 201 with secrets shown as `********`; `default: true` makes it the only default. Admin keys only: any other key gets 403 before its body is read.",
        body: CreateChannelBody,
        response: {
          201: ChannelResponse,
          ...errorResponses,
          409: routeError("MESSAGE_SENDER_CHANNEL_EXISTS: a channel with this channel_id exists."),
        },
      },
    },
    async (request, reply) => {
      const channel = await createChannel(db, request.body, redelivery);
      channels.invalidate();
      return reply.code(201).header("location", `/api/v1/channel/${channel.channel_id}/`).send(channel);
    },
  );

  app.get(
    "/api/v1/channel/",
    {
      schema: {
        tags: ["channel"],
        summary: "List channels",
        description:
          "Every channel with its type, limits, fallback and sending window; secrets masked as `********`. Any key.",
        querystring: ListQuery,
        response: { 200: Paginated(ChannelResponse), ...errorResponses },
      },
    },
    async (request) => {
      const page = pageParams(request.query);
      const { count, results } = await listChannels(db, page, redelivery);
      return toPage(request, page, count, results);
    },
  );

  app.get(
    "/api/v1/channel/:id/",
    {
      schema: {
        tags: ["channel"],
        summary: "Get a channel",
        description: "One channel by its `channel_id`, secrets masked as `********`.",
        params: ChannelParams,
        response: { 200: ChannelResponse, ...errorResponses },
      },
    },
    async (request) => getChannel(db, request.params.id, redelivery),
  );

  app.patch(
    "/api/v1/channel/:id/",
    {
      preValidation: adminOnly,
      schema: {
        tags: ["channel"],
        summary:
          "Change a channel (configuration is merged; `default: true` makes it the only default) (admin)",
        description:
          "`configuration` is merged into the stored one (a secret left out or sent as `********` keeps its value; `null` removes a field) and the result validated. Changing where requests or callbacks go needs every secret given again (400 MESSAGE_SENDER_SECRETS_REQUIRED). Admin keys only.",
        params: ChannelParams,
        body: PatchChannelBody,
        response: { 200: ChannelResponse, ...errorResponses },
      },
    },
    async (request) => {
      const channel = await patchChannel(db, request.params.id, request.body, redelivery);
      channels.invalidate();
      return channel;
    },
  );

  app.delete(
    "/api/v1/channel/:id/",
    {
      preValidation: adminOnly,
      schema: {
        tags: ["channel"],
        summary: "Delete a channel (not LOG, not the default) (admin)",
        description:
          "204; LOG and the default channel cannot be deleted (409). Channels falling back to it lose their fallback. Admin keys only.",
        params: ChannelParams,
        response: {
          204: Type.Null(),
          ...errorResponses,
          409: routeError(
            "MESSAGE_SENDER_CHANNEL_BUILT_IN (LOG) or MESSAGE_SENDER_CHANNEL_IS_DEFAULT: it cannot be deleted.",
          ),
        },
      },
    },
    async (request, reply) => {
      await deleteChannel(db, request.params.id);
      channels.invalidate();
      return reply.code(204).send(null);
    },
  );
}
