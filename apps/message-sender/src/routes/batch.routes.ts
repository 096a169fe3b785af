import { Batch, CreateBatchBody, IdParams } from "@tidings/contracts";
import { type Api, actionRoute, errorResponses, pageRoute } from "@tidings/service-kit";
import { viewerOf, visibleBatches } from "../api-keys/visibility.ts";
import type { ChannelCache } from "../channels/channel-cache.ts";
import type { Db } from "../db.ts";
import { createBatch, getBatch, listBatches } from "../intake/batches.ts";
import { actorOf } from "../intake/outbounds.ts";

export function batchRoutes(app: Api, db: Db, channels: ChannelCache, channelIds: readonly string[]): void {
  actionRoute(app, "/api/v1/outbound/batch/", {
    tags: ["outbound"],
    summary: "Queue one message to each of up to 10,000 recipients",
    description:
      "`{id?, recipients: [{to_addr?, to_identity?, personalisation?}], content? | template?, metadata?, channel?}`: every recipient is checked first (400 naming the bad indexes, 403 for a team key's recipients off its allow-list), then the batch and its outbounds are stored in one transaction and sent by the workers; 202 with the batch and a `Location`. An `id` already stored creates nothing: a retry (the same user, a test key again or not) is answered with that batch, any other caller 409 MESSAGE_SENDER_BATCH_EXISTS.",
    body: CreateBatchBody,
    status: 202,
    answer: Batch,
    run: (request) => createBatch(db, channels, channelIds, request.body, actorOf(request)),
    location: (batch) => `/api/v1/outbound/batch/${batch.id}/`,
  });

  app.get(
    "/api/v1/outbound/batch/:id/",
    {
      schema: {
        tags: ["outbound"],
        summary: "A batch, with its outbounds counted by status",
        description:
          "`{id, total, channel, template, template_version, test, status_counts: {queued: n, delivered: n, ...}, created_at, created_by}`.",
        params: IdParams,
        response: { 200: Batch, ...errorResponses },
      },
    },
    async (request) => getBatch(db, request.params.id, visibleBatches(viewerOf(request))),
  );

  pageRoute(app, "/api/v1/outbound/batch/", {
    tags: ["outbound"],
    summary: "Batches, newest first, with their outbounds counted by status",
    description:
      "Each batch as `GET /api/v1/outbound/batch/{id}/` answers it (`status_counts` included), newest first, paginated; a `test` key sees only test batches.",
    item: Batch,
    run: (request, page) => listBatches(db, page, visibleBatches(viewerOf(request))),
  });
}
