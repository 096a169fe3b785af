import {
  CloneMessageSetBody,
  IntIdParams,
  ListQuery,
  MessageContent,
  MessageSet,
  MessageSetLanguages,
  MessageSetMessages,
  Paginated,
  PreviewTemplateBody,
  ScheduleRuns,
  ScheduleRunsQuery,
  TemplatePreview,
  TemplateVersion,
} from "@tidings/contracts";
import { type Api, errorResponses, pageParams, toPage } from "@tidings/service-kit";
import Type from "typebox";
import { getMessageContent } from "../services/messages.ts";
import { cloneMessageSet, getMessageSetMessages, messageSetLanguages } from "../services/messagesets.ts";
import { scheduleRuns } from "../services/schedules.ts";
import { getTemplateVersion, listTemplateVersions, previewTemplate } from "../services/templates.ts";
import { contextOf, type RouteDeps } from "./deps.ts";

/** The content store's endpoints beyond plain CRUD: Seed's extras, schedule runs and template versions. */
export function extraRoutes(app: Api, deps: RouteDeps): void {
  const { db } = deps;

  app.get(
    "/api/v1/schedule/:id/runs/",
    {
      schema: {
        tags: ["schedule"],
        summary:
          "The schedule's run times in a window (from..to inclusive, in its time zone), at most `limit`",
        params: IntIdParams,
        querystring: ScheduleRunsQuery,
        response: { 200: ScheduleRuns, ...errorResponses },
      },
    },
    async (request) => scheduleRuns(db, request.params.id, request.query),
  );

  app.get(
    "/api/v1/messageset/:id/messages",
    {
      schema: {
        tags: ["message set"],
        summary: "The message set with its messages (binary content nested), in sequence_number, lang order",
        params: IntIdParams,
        response: { 200: MessageSetMessages, ...errorResponses },
      },
    },
    async (request) => getMessageSetMessages(deps, request.params.id),
  );

  app.get(
    "/api/v1/messageset_languages/",
    {
      schema: {
        tags: ["message set"],
        summary: "{<messageset id>: [the distinct langs of its messages]} for every message set",
        response: { 200: MessageSetLanguages, ...errorResponses },
      },
    },
    async () => messageSetLanguages(db),
  );

  app.post(
    "/api/v1/messageset/:id/clone/",
    {
      schema: {
        tags: ["message set"],
        summary: "Copy a message set and all its messages under a new short_name",
        params: IntIdParams,
        body: CloneMessageSetBody,
        response: { 201: MessageSet, ...errorResponses },
      },
    },
    async (request, reply) => {
      const set = await cloneMessageSet(deps, request.params.id, request.body, contextOf(request));
      return reply.code(201).header("location", `/api/v1/messageset/${set.id}/`).send(set);
    },
  );

  app.get(
    "/api/v1/message/:id/content",
    {
      schema: {
        tags: ["message"],
        summary: "The message with its binary content nested",
        params: IntIdParams,
        response: { 200: MessageContent, ...errorResponses },
      },
    },
    async (request) => getMessageContent(deps, request.params.id),
  );

  app.get(
    "/api/v1/template/:id/versions/",
    {
      schema: {
        tags: ["template"],
        summary: "Every version of the template, oldest first",
        params: IntIdParams,
        querystring: ListQuery,
        response: { 200: Paginated(TemplateVersion), ...errorResponses },
      },
    },
    async (request) => {
      const page = pageParams(request.query);
      const { count, results } = await listTemplateVersions(db, request.params.id, page);
      return toPage(request, page, count, results);
    },
  );

  app.get(
    "/api/v1/template/:id/versions/:version/",
    {
      schema: {
        tags: ["template"],
        summary: "One version of the template",
        params: Type.Object({
          ...IntIdParams.properties,
          version: Type.Integer({ minimum: 1, maximum: 2147483647 }),
        }),
        response: { 200: TemplateVersion, ...errorResponses },
      },
    },
    async (request) => getTemplateVersion(db, request.params.id, request.params.version),
  );

  app.post(
    "/api/v1/template/:id/preview/",
    {
      schema: {
        tags: ["template"],
        summary: "Render the template with personalisation (every placeholder needs a value)",
        params: IntIdParams,
        body: PreviewTemplateBody,
        response: { 200: TemplatePreview, ...errorResponses },
      },
    },
    async (request) => previewTemplate(db, request.params.id, request.body),
  );
}
