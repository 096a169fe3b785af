import {
  ContentSchedule,
  ContentScheduleListQuery,
  CreateContentScheduleBody,
  CreateMessageBody,
  CreateMessageSetBody,
  CreateTemplateBody,
  Message,
  MessageListQuery,
  MessageSet,
  MessageSetListQuery,
  Template,
  TemplateListQuery,
  UpdateContentScheduleBody,
  UpdateMessageBody,
  UpdateMessageSetBody,
  UpdateTemplateBody,
} from "@tidings/contracts";
import type { Api } from "@tidings/service-kit";
import {
  createMessage,
  deleteMessage,
  getMessage,
  listMessages,
  updateMessage,
} from "../services/messages.ts";
import {
  createMessageSet,
  deleteMessageSet,
  getMessageSet,
  listMessageSets,
  updateMessageSet,
} from "../services/messagesets.ts";
import {
  createSchedule,
  deleteSchedule,
  getSchedule,
  listSchedules,
  updateSchedule,
} from "../services/schedules.ts";
import {
  createTemplate,
  deleteTemplate,
  getTemplate,
  listTemplates,
  updateTemplate,
} from "../services/templates.ts";
import type { RouteDeps } from "./deps.ts";
import { resourceRoutes } from "./resource.ts";

/** Seed's content-store API (schedules, message sets, messages, binary content) and templates. */
export function contentRoutes(app: Api, deps: RouteDeps): void {
  const { db } = deps;
  resourceRoutes(app, {
    path: "/api/v1/schedule/",
    name: "schedule",
    deleteConflict:
      "CONTENT_SCHEDULE_IN_USE: it is the default_schedule of a message set (`details.messagesets`).",
    schemas: {
      item: ContentSchedule,
      create: CreateContentScheduleBody,
      update: UpdateContentScheduleBody,
      query: ContentScheduleListQuery,
    },
    create: (body, context) => createSchedule(db, body, context),
    list: (_query, page) => listSchedules(db, page),
    get: (id) => getSchedule(db, id),
    update: (id, body, context) => updateSchedule(db, id, body, context),
    remove: (id, context) => deleteSchedule(db, id, context),
  });

  resourceRoutes(app, {
    path: "/api/v1/messageset/",
    name: "message set",
    schemas: {
      item: MessageSet,
      create: CreateMessageSetBody,
      update: UpdateMessageSetBody,
      query: MessageSetListQuery,
    },
    create: (body, context) => createMessageSet(db, body, context),
    list: (query, page) => listMessageSets(db, query, page),
    get: (id) => getMessageSet(db, id),
    update: (id, body, context) => updateMessageSet(db, id, body, context),
    remove: (id, context) => deleteMessageSet(db, id, context),
  });

  resourceRoutes(app, {
    path: "/api/v1/message/",
    name: "message",
    schemas: {
      item: Message,
      create: CreateMessageBody,
      update: UpdateMessageBody,
      query: MessageListQuery,
    },
    create: (body, context) => createMessage(deps, body, context),
    list: (query, page) => listMessages(deps, query, page),
    get: (id) => getMessage(deps, id),
    update: (id, body, context) => updateMessage(deps, id, body, context),
    remove: (id, context) => deleteMessage(deps, id, context),
  });

  resourceRoutes(app, {
    path: "/api/v1/template/",
    name: "template",
    schemas: {
      item: Template,
      create: CreateTemplateBody,
      update: UpdateTemplateBody,
      query: TemplateListQuery,
    },
    create: (body, context) => createTemplate(db, body, context),
    list: (query, page) => listTemplates(db, query, page),
    get: (id) => getTemplate(db, id),
    update: (id, body, context) => updateTemplate(db, id, body, context),
    remove: (id, context) => deleteTemplate(db, id, context),
  });
}
