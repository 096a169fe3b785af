import {
  copyMessage,
  copyMessageSet,
  copySchedule,
  deleteMessage,
  markMessageSetDeleted,
  markScheduleDeleted,
} from "../services/content-copy.ts";
import { copyTemplate, markTemplateDeleted } from "../services/template-copy.ts";
import type { WorkerDeps } from "./deps.ts";

/** `subscription.content`: the local copy of content schedules, message sets, messages and templates. */
export const consumeContent = ({ broker, db, config }: WorkerDeps) =>
  broker.consume(
    "subscription.content",
    {
      "content.schedule.changed": (s) => copySchedule(db, s),
      "content.schedule.deleted": ({ id }) => markScheduleDeleted(db, id),
      "content.messageset.changed": (m) => copyMessageSet(db, m),
      "content.messageset.deleted": ({ id }) => markMessageSetDeleted(db, id),
      "content.message.changed": (m) => copyMessage(db, m),
      "content.message.deleted": (m) => deleteMessage(db, m),
      "content.template.changed": (t) => copyTemplate(db, t),
      "content.template.deleted": ({ id }) => markTemplateDeleted(db, id),
    },
    { prefetch: config.AMQP_PREFETCH },
  );
