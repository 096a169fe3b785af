import {
  CloneMessageSetBody,
  IntIdParams,
  MessageContent,
  MessagePreflight,
  MessagePreflightBody,
  MessageSet,
  MessageSetLanguages,
  MessageSetMessages,
  PreviewTemplateBody,
  ScheduleRuns,
  ScheduleRunsQuery,
  TemplatePreview,
  TemplateVersion,
} from "@tidings/contracts";
import { type Api, actionRoute, errorResponses, pageRoute } from "@tidings/service-kit";
import Type from "typebox";
import { getMessageContent, preflightMessage } from "../services/messages.ts";
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
        description:
          "`{schedule, timezone, cron_definition, from, to, runs, truncated}`: the run times in [from, to] (at most 367 days apart) computed in the schedule's time zone, so 08:00 stays 08:00 local across DST; at most `limit` (default 100), `truncated` when there were more.",
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
        description:
          "The message set with `messages`, each with its binary content nested (or null), ordered by sequence_number then lang.",
        params: IntIdParams,
        response: { 200: MessageSetMessages, ...errorResponses },
      },
    },
    async (request) => getMessageSetMessages(deps, request.params.id),
  );

  app.post(
    "/api/v1/message/preflight/",
    {
      schema: {
        tags: ["message"],
        summary: "Check a message's text before saving it: SMS encoding, length, segments, and any problem",
        description:
          "`{text_content, messageset?}`: the text's SMS encoding (GSM-7, or UCS-2 when a character needs it), its characters, its length in the encoding's units, the segments it takes and the units per segment, the characters that force UCS-2, and `problem`: the message saving it would be refused with (smart punctuation; a WhatsApp set's newlines, tabs or four spaces), or null. Nothing is saved: editors call it as the author types.",
        body: MessagePreflightBody,
        response: { 200: MessagePreflight, ...errorResponses },
      },
    },
    async (request) => preflightMessage(db, request.body),
  );

  app.get(
    "/api/v1/messageset_languages/",
    {
      schema: {
        tags: ["message set"],
        summary: "{<messageset id>: [the distinct langs of its messages]} for every message set",
        description: "For every message set, the distinct languages of its messages, sorted (`[]` for none).",
        response: { 200: MessageSetLanguages, ...errorResponses },
      },
    },
    async () => messageSetLanguages(db),
  );

  actionRoute(app, "/api/v1/messageset/:id/clone/", {
    tags: ["message set"],
    summary: "Copy a message set and all its messages under a new short_name",
    description:
      "`{short_name, label?}`: a copy of the set (every field but `short_name`, and `label` if given) with copies of all its messages, in one transaction; events are published for the set and each message.",
    params: IntIdParams,
    body: CloneMessageSetBody,
    status: 201,
    answer: MessageSet,
    run: (request) => cloneMessageSet(deps, request.params.id, request.body, contextOf(request)),
    location: (set) => `/api/v1/messageset/${set.id}/`,
  });

  app.get(
    "/api/v1/message/:id/content",
    {
      schema: {
        tags: ["message"],
        summary: "The message with its binary content nested",
        description: "The message with `binary_content` (`{id, content, ...}` or null) in place of its id.",
        params: IntIdParams,
        response: { 200: MessageContent, ...errorResponses },
      },
    },
    async (request) => getMessageContent(deps, request.params.id),
  );

  pageRoute(app, "/api/v1/template/:id/versions/", {
    tags: ["template"],
    summary: "Every version of the template, oldest first",
    description:
      "A page of the template's versions, oldest first: each change of a template makes a new version, and sends can name one.",
    params: IntIdParams,
    item: TemplateVersion,
    run: (request, page) => listTemplateVersions(db, request.params.id, page),
  });

  app.get(
    "/api/v1/template/:id/versions/:version/",
    {
      schema: {
        tags: ["template"],
        summary: "One version of the template",
        description: "The template as it was at that version.",
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
        description:
          "`{personalisation: {name: value}, version?}`: the template (or that version) rendered, with its encoding and the number of SMS segments it takes; a placeholder without a value is a 400.",
        params: IntIdParams,
        body: PreviewTemplateBody,
        response: { 200: TemplatePreview, ...errorResponses },
      },
    },
    async (request) => previewTemplate(db, request.params.id, request.body),
  );
}
