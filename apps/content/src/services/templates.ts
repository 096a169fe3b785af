import { isDeepStrictEqual } from "node:util";
import {
  type CreateTemplateBody,
  type PreviewTemplateBody,
  placeholderKey,
  placeholdersOf,
  renderTemplate,
  smsInfo,
  type Template,
  type TemplateListQuery,
  type TemplatePreview,
  type TemplateVersion,
  type TemplateWhatsapp,
  toSeedTime,
  type UpdateTemplateBody,
} from "@tidings/contracts";
import { found, type PageParams, pageSlice } from "@tidings/service-kit";
import type { Db, Tx } from "../db.ts";
import {
  invalidWhatsapp,
  missingPersonalisation,
  subjectNotAllowed,
  subjectRequired,
  templateNotFound,
  templateVersionNotFound,
} from "../errors.ts";
import {
  Prisma,
  type Template as TemplateRow,
  type TemplateVersion as TemplateVersionRow,
} from "../generated/prisma/client.ts";
import {
  type Listed,
  listed,
  listInIdOrder,
  type RequestContext,
  timestamps,
  write,
  writeDeletion,
} from "./support.ts";

type Content = Pick<TemplateRow, "type" | "subject" | "body" | "whatsapp">;

/** SMS: the encoding and segments of `text`; email: none. */
const smsOf = (row: Content, text: string) => {
  if (row.type !== "sms") {
    return { encoding: null, segments: 0 };
  }
  const { encoding, segments } = smsInfo(text);
  return { encoding, segments };
};

const contentFields = (row: TemplateRow | TemplateVersionRow) => ({
  name: row.name,
  type: row.type,
  subject: row.subject,
  body: row.body,
  version: row.version,
  placeholders: placeholdersOf(row.subject, row.body),
  ...smsOf(row, row.body),
  whatsapp: row.whatsapp as TemplateWhatsapp | null,
});

export const toTemplate = (row: TemplateRow): Template => ({
  id: row.id,
  ...contentFields(row),
  ...timestamps(row),
});

const toTemplateVersion = (row: TemplateVersionRow): TemplateVersion => ({
  template: row.templateId,
  ...contentFields(row),
  created_at: toSeedTime(row.createdAt),
});

/** Email templates need a subject; SMS templates have none. */
function assertValidTemplate(row: Content): void {
  if (row.type === "email" && !row.subject) {
    throw subjectRequired();
  }
  if (row.type === "sms" && row.subject !== null) {
    throw subjectNotAllowed();
  }
  assertValidWhatsapp(row);
}

/**
 * A WhatsApp template belongs to an SMS template, names each language once, and fills its parameters from the
 * template's own placeholders (so every send of the template has their values).
 */
function assertValidWhatsapp(row: Content): void {
  const whatsapp = row.whatsapp as TemplateWhatsapp | null;
  if (!whatsapp) {
    return;
  }
  if (row.type !== "sms") {
    throw invalidWhatsapp([{ field: "body.whatsapp", message: "is for SMS templates only" }]);
  }
  const placeholders = placeholdersOf(row.subject, row.body).map(placeholderKey);
  const problems = [
    ...whatsapp.parameters.flatMap((name, i) =>
      placeholders.includes(placeholderKey(name))
        ? []
        : [{ field: `body.whatsapp.parameters[${i}]`, message: `is not a placeholder of the template` }],
    ),
    ...whatsapp.templates.flatMap(({ language }, i) =>
      whatsapp.templates.findIndex((t) => t.language === language) < i
        ? [{ field: `body.whatsapp.templates[${i}].language`, message: "is given twice" }]
        : [],
    ),
  ];
  if (problems.length > 0) {
    throw invalidWhatsapp(problems);
  }
}

/** The `whatsapp` column's value for a write: null clears it (a JSON column's null is Prisma.DbNull). */
const whatsappColumn = (whatsapp: TemplateWhatsapp | null | undefined) =>
  whatsapp === null ? Prisma.DbNull : whatsapp;

/** Records the template as it now is as its latest version, and announces it. */
async function versioned(tx: Tx, row: TemplateRow) {
  assertValidTemplate(row);
  await tx.templateVersion.create({
    data: {
      templateId: row.id,
      version: row.version,
      name: row.name,
      type: row.type,
      subject: row.subject,
      body: row.body,
      whatsapp: whatsappColumn(row.whatsapp as TemplateWhatsapp | null),
      createdAt: row.updatedAt,
    },
  });
  const template = toTemplate(row);
  return { result: template, events: [{ name: "content.template.changed" as const, payload: template }] };
}

export const createTemplate = (db: Db, input: CreateTemplateBody, context: RequestContext) =>
  write(db, context, async (tx) =>
    versioned(
      tx,
      await tx.template.create({
        data: {
          name: input.name,
          type: input.type,
          subject: input.subject ?? null,
          body: input.body,
          whatsapp: whatsappColumn(input.whatsapp ?? null),
        },
      }),
    ),
  );

/**
 * Changes a template, checked as merged. A change makes a new version (the old one stays readable); a PATCH
 * that changes nothing makes none and publishes nothing.
 */
export const updateTemplate = (db: Db, id: number, input: UpdateTemplateBody, context: RequestContext) =>
  write(
    db,
    context,
    async (tx) => {
      // Locked, so that concurrent changes get consecutive versions and compare against the latest.
      const [current] = await tx.$queryRaw<
        { id: number }[]
      >`SELECT id FROM template WHERE id = ${id} FOR UPDATE`;
      if (!current) {
        throw templateNotFound(id);
      }
      const before = await tx.template.findUniqueOrThrow({ where: { id } });
      const unchanged = (Object.keys(input) as (keyof UpdateTemplateBody)[]).every((field) =>
        isDeepStrictEqual(input[field], before[field]),
      );
      if (unchanged) {
        return { result: toTemplate(before), events: [] };
      }
      const row = await tx.template.update({
        where: { id },
        data: {
          name: input.name,
          type: input.type,
          subject: input.subject,
          body: input.body,
          whatsapp: whatsappColumn(input.whatsapp),
          version: { increment: 1 },
        },
      });
      return versioned(tx, row);
    },
    { notFound: () => templateNotFound(id) },
  );

export const deleteTemplate = (db: Db, id: number, context: RequestContext) =>
  writeDeletion(db, context, "content.template.deleted", id, (tx) => tx.template.delete({ where: { id } }), {
    notFound: () => templateNotFound(id),
  });

export async function getTemplate(db: Db, id: number): Promise<Template> {
  return toTemplate(found(await db.template.findUnique({ where: { id } }), () => templateNotFound(id)));
}

export const listTemplates = (db: Db, query: TemplateListQuery, page: PageParams) =>
  listInIdOrder(db, db.template, { name: query.name, type: query.type }, page, toTemplate);

/** Every version of a template, oldest first. */
export async function listTemplateVersions(
  db: Db,
  id: number,
  page: PageParams,
): Promise<Listed<TemplateVersion>> {
  await getTemplate(db, id);
  const where = { templateId: id };
  return listed(
    db,
    db.templateVersion.count({ where }),
    db.templateVersion.findMany({ where, orderBy: { version: "asc" }, ...pageSlice(page) }),
    toTemplateVersion,
  );
}

async function findVersion(db: Db, id: number, version: number): Promise<TemplateVersionRow> {
  const row = await db.templateVersion.findUnique({
    where: { templateId_version: { templateId: id, version } },
  });
  if (!row) {
    await getTemplate(db, id);
    throw templateVersionNotFound(id, version);
  }
  return row;
}

export const getTemplateVersion = async (db: Db, id: number, version: number): Promise<TemplateVersion> =>
  toTemplateVersion(await findVersion(db, id, version));

/**
 * Renders a template (its latest version, or the one asked for) with `personalisation`. Every placeholder
 * needs a value (400 naming the missing ones); values are HTML-escaped in email bodies; SMS previews report
 * the rendered text's encoding and segments.
 */
export async function previewTemplate(
  db: Db,
  id: number,
  input: PreviewTemplateBody,
): Promise<TemplatePreview> {
  const row =
    input.version === undefined
      ? await db.template.findUnique({ where: { id } })
      : await findVersion(db, id, input.version);
  if (!row) {
    throw templateNotFound(id);
  }
  const rendered = renderTemplate(row, input.personalisation);
  if (!rendered.ok) {
    throw missingPersonalisation(rendered.missing);
  }
  const { subject, body } = rendered;
  return {
    id,
    version: row.version,
    type: row.type,
    subject,
    body,
    ...smsOf(row, body),
  };
}
