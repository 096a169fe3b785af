import {
  ContentSchedule,
  ContentScheduleListQuery,
  CreateContentScheduleBody,
  CreateMessageBody,
  CreateMessageSetBody,
  Message,
  MessageListQuery,
  MessageSet,
  MessageSetListQuery,
  UpdateContentScheduleBody,
  UpdateMessageBody,
  UpdateMessageSetBody,
} from "@tidings/contracts";
import type { Api } from "@tidings/service-kit";
import type { Db } from "../db.ts";
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
import { resourceRoutes } from "./resource.ts";

/** Seed's content-store API: schedules, message sets and messages. */
export function contentRoutes(app: Api, db: Db, publicUrl?: string): void {
  resourceRoutes(
    app,
    {
      path: "/api/v1/schedule/",
      name: "schedule",
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
    },
    publicUrl,
  );

  resourceRoutes(
    app,
    {
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
    },
    publicUrl,
  );

  resourceRoutes(
    app,
    {
      path: "/api/v1/message/",
      name: "message",
      schemas: {
        item: Message,
        create: CreateMessageBody,
        update: UpdateMessageBody,
        query: MessageListQuery,
      },
      create: (body, context) => createMessage(db, body, context),
      list: (query, page) => listMessages(db, query, page),
      get: (id) => getMessage(db, id),
      update: (id, body, context) => updateMessage(db, id, body, context),
      remove: (id, context) => deleteMessage(db, id, context),
    },
    publicUrl,
  );
}
