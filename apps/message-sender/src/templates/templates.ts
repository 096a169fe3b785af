import {
  placeholderKey,
  renderTemplate,
  type Template,
  type TemplateValues,
  type TemplateWhatsapp,
} from "@tidings/contracts";
import type { Db } from "../db.ts";
import { senderError } from "../errors.ts";
import type { TemplateCopy } from "../generated/prisma/client.ts";

/**
 * Keeps a version of a content template (from `content.template.changed`): every version seen is kept, so a
 * send may ask for an older one. Idempotent; a template already deleted stays deleted.
 */
export async function recordTemplate(db: Db, template: Template): Promise<void> {
  await db.$executeRaw`
    INSERT INTO template_copy (id, version, name, type, subject, body, whatsapp, deleted)
    VALUES (${template.id}, ${template.version}, ${template.name}, ${template.type}, ${template.subject},
            ${template.body}, ${template.whatsapp ? JSON.stringify(template.whatsapp) : null}::jsonb,
            EXISTS (SELECT 1 FROM template_copy WHERE id = ${template.id} AND deleted))
    ON CONFLICT (id, version) DO NOTHING`;
}

/**
 * `content.template.deleted`: the template can no longer be sent. A tombstone (version 0) is kept even when no
 * version had arrived, so a late `content.template.changed` does not bring it back.
 */
export async function forgetTemplate(db: Db, id: number): Promise<void> {
  await db.$executeRaw`
    WITH marked AS (UPDATE template_copy SET deleted = true WHERE id = ${id})
    INSERT INTO template_copy (id, version, name, type, subject, body, deleted)
    VALUES (${id}, 0, '', '', NULL, '', true)
    ON CONFLICT (id, version) DO NOTHING`;
}

/** The template's latest version (or the one asked for), unless it is unknown or deleted. */
export async function findTemplate(db: Db, id: number, version?: number): Promise<TemplateCopy | null> {
  return db.templateCopy.findFirst({
    where: { id, version, deleted: false },
    orderBy: { version: "desc" },
  });
}

/** What a templated send stores: the rendered body as content; an email's subject in `metadata.subject`. */
export interface RenderedSend {
  content: string;
  metadata: Record<string, unknown>;
}

/**
 * The metadata key where a templated send keeps the values of its content template's WhatsApp parameters, by
 * placeholder, for its WhatsApp template (channels/whatsapp-template.ts).
 */
export const TEMPLATE_PERSONALISATION_KEY = "template_personalisation";

/**
 * Renders a send, or returns the placeholders that have no value. A template with a WhatsApp template keeps its
 * parameters' values (`metadata.template_personalisation`) for a WhatsApp send outside the 24-hour window.
 */
export function renderSend(
  template: TemplateCopy,
  personalisation: TemplateValues | undefined,
  metadata: Record<string, unknown>,
): RenderedSend | { missing: string[] } {
  const rendered = renderTemplate(template, personalisation);
  if (!rendered.ok) {
    return { missing: rendered.missing };
  }
  const values = parameterValues(template.whatsapp as TemplateWhatsapp | null, personalisation);
  return {
    content: rendered.body,
    metadata: {
      ...metadata,
      ...(rendered.subject === null ? {} : { subject: rendered.subject }),
      ...(values ? { [TEMPLATE_PERSONALISATION_KEY]: values } : {}),
    },
  };
}

/** The values of a WhatsApp template's parameters, by placeholder, from a send's personalisation. */
function parameterValues(
  whatsapp: TemplateWhatsapp | null,
  personalisation: TemplateValues | undefined,
): Record<string, string> | undefined {
  if (!whatsapp) {
    return undefined;
  }
  const values = new Map(
    Object.entries(personalisation ?? {}).map(([name, value]) => [placeholderKey(name), String(value)]),
  );
  return Object.fromEntries(
    whatsapp.parameters.flatMap((name) => {
      const value = values.get(placeholderKey(name));
      return value === undefined ? [] : [[name, value]];
    }),
  );
}

interface TemplatedInput {
  content?: string | null | undefined;
  template?: number | undefined;
  template_version?: number | undefined;
  personalisation?: TemplateValues | undefined;
}

/**
 * The template a send names (400 when it is unknown here, deleted, or given along with `content`), or
 * undefined for a send with plain content.
 */
export async function templateForSend(db: Db, input: TemplatedInput): Promise<TemplateCopy | undefined> {
  if (input.template === undefined) {
    for (const field of ["template_version", "personalisation"] as const) {
      if (input[field] !== undefined) {
        throw senderError("VALIDATION_FAILED", `${field} needs template`, [
          { field: `body.${field}`, message: "needs template" },
        ]);
      }
    }
    return undefined;
  }
  if (input.content !== undefined && input.content !== null) {
    throw senderError("MESSAGE_SENDER_CONTENT_AND_TEMPLATE", "Give content or template, not both", [
      { field: "body.content", message: "must be absent with template" },
    ]);
  }
  const template = await findTemplate(db, input.template, input.template_version);
  if (!template) {
    const which = `${input.template}${input.template_version === undefined ? "" : ` version ${input.template_version}`}`;
    throw senderError("MESSAGE_SENDER_UNKNOWN_TEMPLATE", `No template ${which}`, [
      { field: "body.template", message: "no such template" },
    ]);
  }
  return template;
}

/** 400 naming the placeholders without a value, as fields under `prefix` (e.g. `body.personalisation`). */
export const missingPersonalisation = (
  message: string,
  missing: readonly { prefix: string; names: string[] }[],
) =>
  senderError(
    "MESSAGE_SENDER_MISSING_PERSONALISATION",
    message,
    missing.flatMap(({ prefix, names }) =>
      names.map((name) => ({ field: `${prefix}.${name}`, message: "is required" })),
    ),
  );
