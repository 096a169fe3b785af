import {
  ChannelParams,
  ChannelResponse,
  CreateChannelBody,
  ListQuery,
  Paginated,
  PatchChannelBody,
} from "@tidings/contracts";
import { type Api, errorResponses, pageParams, toPage } from "@tidings/service-kit";
import Type from "typebox";
import type { Db } from "../db.ts";
import {
  type ChannelCache,
  createChannel,
  deleteChannel,
  getChannel,
  listChannels,
  patchChannel,
} from "../services/channels.ts";

/** `channels`: this process's channel cache, cleared by every change made here (so it is seen at once). */
export function channelRoutes(app: Api, db: Db, channels: ChannelCache, publicUrl?: string): void {
  app.post(
    "/api/v1/channel/",
    {
      schema: {
        tags: ["channel"],
        summary: "Create a channel (configuration validated by channel_type; secrets are write-only)",
        body: CreateChannelBody,
        response: { 201: ChannelResponse, ...errorResponses },
      },
    },
    async (request, reply) => {
      const channel = await createChannel(db, request.body);
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
      const { count, results } = await listChannels(db, page);
      return toPage(request, page, count, results, publicUrl);
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
    async (request) => getChannel(db, request.params.id),
  );

  app.patch(
    "/api/v1/channel/:id/",
    {
      schema: {
        tags: ["channel"],
        summary: "Change a channel (configuration is merged; `default: true` makes it the only default)",
        params: ChannelParams,
        body: PatchChannelBody,
        response: { 200: ChannelResponse, ...errorResponses },
      },
    },
    async (request) => {
      const channel = await patchChannel(db, request.params.id, request.body);
      channels.invalidate();
      return channel;
    },
  );

  app.delete(
    "/api/v1/channel/:id/",
    {
      schema: {
        tags: ["channel"],
        summary: "Delete a channel (not LOG, not the default)",
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
