import { placeholderKey, type TemplateWhatsapp } from "@tidings/contracts";
import type { Db } from "../db.ts";
import { type OutboundToSend, PermanentSendError } from "../outbound/channel.ts";
import { TEMPLATE_PERSONALISATION_KEY } from "../templates/templates.ts";

// Which WhatsApp template (a provider's pre-approved message) a WhatsApp send goes as outside the person's 24-hour
// window, for every WhatsApp channel (twilio-whatsapp, and any other provider's): the send's own
// `metadata.whatsapp_template` (a hub's explicit override), else the WhatsApp template of the content template it
// was rendered from (`template_copy.whatsapp`, from content.template.changed).

/** The metadata key of a send's explicit WhatsApp template: `{name, language?, variables?: {"1": "Thandi"}}`. */
export const WHATSAPP_TEMPLATE_KEY = "whatsapp_template";

/** A WhatsApp template to send. */
export interface WhatsappTemplateChoice {
  /** The provider's template: a Twilio Content SID (`HX…`), a Content API friendly name, a WhatsApp template name. */
  name: string;
  /** Its language (e.g. `en`); null when an override names none. */
  language: string | null;
  /** The values of its parameters in order: `{{1}}`, `{{2}}`, ... */
  parameters: string[];
  /** Where it came from: the send's `metadata.whatsapp_template`, or its content template. */
  source: "metadata" | "content_template";
}

interface Override {
  name?: unknown;
  language?: unknown;
  variables?: Record<string, unknown>;
}

/** An override's variables (`{"1": "Thandi", "2": "5 May"}`) in the order of their numbers. */
const numbered = (variables: Record<string, unknown> = {}) =>
  Object.entries(variables)
    .filter(([key]) => /^\d+$/.test(key))
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([, value]) => String(value));

/**
 * The send's language for picking among a content template's WhatsApp templates: `metadata.language`, else
 * Seed's `metadata.lang` (a subscription's language, e.g. `eng_ZA`).
 */
const languageOf = (metadata: Record<string, unknown>) =>
  [metadata.language, metadata.lang].find((l): l is string => typeof l === "string" && l !== "");

/**
 * The WhatsApp template of an outbound: its `metadata.whatsapp_template` when it has a `name` (an explicit
 * override), else its content template's `whatsapp` (the version it was rendered from): the template of the
 * send's language (`metadata.language` or `lang`), else the first (the default), with the parameters' values
 * from `metadata.template_personalisation`. Undefined when there is none. Throws PermanentSendError when a
 * parameter has no value (the send can't be made as that template).
 */
export async function whatsappTemplateFor(
  db: Db,
  outbound: OutboundToSend,
): Promise<WhatsappTemplateChoice | undefined> {
  const override = outbound.metadata[WHATSAPP_TEMPLATE_KEY] as Override | undefined;
  if (override && typeof override.name === "string" && override.name) {
    return {
      name: override.name,
      language: typeof override.language === "string" ? override.language : null,
      parameters: numbered(override.variables),
      source: "metadata",
    };
  }
  if (!outbound.template) {
    return undefined;
  }
  const copy = await db.templateCopy.findFirst({
    where: {
      id: outbound.template.id,
      ...(outbound.template.version ? { version: outbound.template.version } : {}),
    },
    orderBy: { version: "desc" },
  });
  const whatsapp = copy?.whatsapp as TemplateWhatsapp | null | undefined;
  if (!whatsapp) {
    return undefined;
  }
  const language = languageOf(outbound.metadata);
  const chosen = whatsapp.templates.find((t) => t.language === language) ?? whatsapp.templates[0];
  if (!chosen) {
    return undefined;
  }
  const values = new Map(
    Object.entries((outbound.metadata[TEMPLATE_PERSONALISATION_KEY] ?? {}) as Record<string, unknown>).map(
      ([name, value]) => [placeholderKey(name), value],
    ),
  );
  const parameters = whatsapp.parameters.map((name) => {
    const value = values.get(placeholderKey(name));
    if (value === undefined || value === null) {
      throw new PermanentSendError(`whatsapp: no value for parameter ${name} of template ${chosen.name}`);
    }
    return String(value);
  });
  return { name: chosen.name, language: chosen.language, parameters, source: "content_template" };
}
