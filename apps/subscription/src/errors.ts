/** The subscription service's API errors: services throw them, the shared error handler renders them. */
import { badRequest, conflict, type FieldProblem, notFound } from "@tidings/service-kit";

export const subscriptionNotFound = (id: string) =>
  notFound("SUBSCRIPTION_NOT_FOUND", `Subscription ${id} not found`);

/** Seed's resend (and legacy send) answered an unknown subscription with a 400 and this message. */
export const seedSubscriptionNotFound = (id: string) =>
  badRequest("SUBSCRIPTION_NOT_FOUND", `Cannot find subscription with ID ${id}`);

/** PATCH/PUT would make a second active subscription of the identity to the set (at most one is active). */
export const subscriptionAlreadyActive = (
  identity: string,
  messageset: number,
  existing: string | undefined,
) =>
  conflict(
    "SUBSCRIPTION_ALREADY_ACTIVE",
    `Identity ${identity} already has an active subscription to message set ${messageset}`,
    { subscription: existing ?? null },
  );

export const messageMissing = (sequence: number, lang: string, messageset: number) =>
  badRequest("SUBSCRIPTION_MESSAGE_MISSING", `Message ${sequence} (${lang}) of set ${messageset} is unknown`);

export const unknownContent = (problems: FieldProblem[]) =>
  badRequest("SUBSCRIPTION_UNKNOWN_CONTENT", problems.map((p) => p.message).join("; "), problems);

export const scheduleNotFound = (id: number) =>
  notFound("SUBSCRIPTION_SCHEDULE_NOT_FOUND", `Schedule ${id} not found`);

export const messageSetNotFound = (id: number) =>
  notFound("SUBSCRIPTION_MESSAGESET_NOT_FOUND", `Message set ${id} not found`);

export const invalidSendingWindow = (problems: FieldProblem[]) =>
  badRequest("SUBSCRIPTION_INVALID_SENDING_WINDOW", "The sending window is invalid", problems);

export const topicSubscriptionNotFound = (identity: string) =>
  notFound("TOPIC_SUBSCRIPTION_NOT_FOUND", `Identity ${identity} is not subscribed to this topic`);

export const topicContentRequired = () =>
  badRequest("TOPIC_CONTENT_REQUIRED", "Give exactly one of content and template.", [
    { field: "body.content", message: "exactly one of content and template" },
  ]);

export const unknownTemplate = (id: number | undefined) =>
  badRequest("TOPIC_UNKNOWN_TEMPLATE", `Template ${id} does not exist`, [
    { field: "body.template", message: "no such template" },
  ]);

export const publishIdConflict = (publishId: string) =>
  conflict("TOPIC_PUBLISH_ID_CONFLICT", `publish_id ${publishId} was used for another topic`);

export const publishNotFound = (publishId: string) =>
  notFound("TOPIC_PUBLISH_NOT_FOUND", `Publish ${publishId} not found`);
