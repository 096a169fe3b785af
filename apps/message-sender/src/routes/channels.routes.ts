import {
  ChannelParams,
  ChannelResponse,
  ListQuery,
  Paginated,
  PatchChannelBody,
  type RedeliveryPolicy,
} from "@tidings/contracts";
import { type Api, errorResponses, pageParams, requireAdmin, toPage } from "@tidings/service-kit";
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
        body: CreateChannelBody,
        response: { 201: ChannelResponse, ...errorResponses },
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
        params: ChannelParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await deleteChannel(db, request.params.id);
      channels.invalidate();
      return reply.code(204).send(null);
    },
  );
}
