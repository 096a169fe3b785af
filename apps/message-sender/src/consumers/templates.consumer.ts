import type { Stop } from "@tidings/service-kit";
import { forgetTemplate, recordTemplate } from "../templates/templates.ts";
import type { ConsumerDeps } from "./consumer-deps.ts";

/** `message-sender.templates`: the local copy of the content service's templates (content.template.*). */
export async function startTemplatesConsumer({ config, db, broker }: ConsumerDeps): Promise<Stop> {
  const consumer = await broker.consume(
    "message-sender.templates",
    {
      "content.template.changed": (template) => recordTemplate(db, template),
      "content.template.deleted": ({ id }) => forgetTemplate(db, id),
    },
    { prefetch: config.AMQP_PREFETCH },
  );
  return () => consumer.stop();
}
