import type { Template } from "@tidings/contracts";
import type { Db } from "../db.ts";

/** content.template.changed: the local copy of the template, only ever moving to a newer version. */
export async function copyTemplate(db: Db, t: Template): Promise<void> {
  const data = { type: t.type, subject: t.subject, body: t.body, version: t.version, deleted: false };
  const { count } = await db.templateCopy.updateMany({
    where: { id: t.id, version: { lte: t.version } },
    data,
  });
  if (count === 0) {
    await db.templateCopy.createMany({ data: [{ id: t.id, ...data }], skipDuplicates: true });
  }
}

/** content.template.deleted: kept, marked, so nothing new is published with it. */
export async function markTemplateDeleted(db: Db, id: number): Promise<void> {
  await db.templateCopy.updateMany({ where: { id }, data: { deleted: true } });
}
