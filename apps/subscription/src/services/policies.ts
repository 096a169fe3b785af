import { type MessageSetPolicy, type MessageSetPolicyBody, sendingWindowProblems } from "@tidings/contracts";
import type { Db } from "../db.ts";
import { invalidSendingWindow, messageSetNotFound } from "../errors.ts";
import { Prisma } from "../generated/prisma/client.ts";
import { toPolicy } from "./position.ts";

/** 404 unless the message set is in the local copy (and not deleted). */
async function assertKnownSet(db: Db, id: number): Promise<void> {
  if (!(await db.messageSetCopy.findFirst({ where: { id, deleted: false }, select: { id: true } }))) {
    throw messageSetNotFound(id);
  }
}

async function policyOf(db: Db, id: number): Promise<MessageSetPolicy> {
  const row = await db.messageSetPolicy.findUnique({ where: { messagesetId: id } });
  const policy = toPolicy(row);
  return {
    messageset: id,
    catch_up: policy.catchUp,
    max_per_day: policy.maxPerDay,
    sending_window: policy.sendingWindow,
    configured: !!row,
  };
}

/** A message set's catch-up policy (the defaults when it has none of its own). */
export async function getPolicy(db: Db, id: number): Promise<MessageSetPolicy> {
  await assertKnownSet(db, id);
  return policyOf(db, id);
}

/** Sets a message set's catch-up policy; 400 for an invalid sending window. */
export async function setPolicy(db: Db, id: number, body: MessageSetPolicyBody): Promise<MessageSetPolicy> {
  await assertKnownSet(db, id);
  const problems = sendingWindowProblems(body.sending_window, "body.sending_window");
  if (problems.length > 0) {
    throw invalidSendingWindow(problems);
  }
  const data = {
    catchUp: body.catch_up,
    maxPerDay: body.max_per_day,
    sendingWindow: body.sending_window ?? Prisma.DbNull,
  };
  await db.messageSetPolicy.upsert({
    where: { messagesetId: id },
    create: { messagesetId: id, ...data },
    update: data,
  });
  return policyOf(db, id);
}
