import { placeholderKey, type TemplateWhatsapp } from "@tidings/contracts";
import type { Db } from "../db.ts";
import { type OutboundToSend, PermanentSendError } from "../outbound/channel.ts";
import { TEMPLATE_PERSONALISATION_KEY } from "../templates/templates.ts";

// Which WhatsApp template (a provider's pre-approved message) a WhatsApp send goes as outside the person's 24-hour
// window, for every WhatsApp channel (twilio-whatsapp, vonage-whatsapp): the send's own
// `metadata.whatsapp_template` (a hub's explicit override), else Seed's `metadata.template` (as Seed's message
// sender read it), else the WhatsApp template of the content template it was rendered from (`template_copy.whatsapp`,
// from content.template.changed).

/** The WhatsApp channel types: their sends outside the person's 24-hour window go as a template. */
export const WHATSAPP_CHANNEL_TYPES: ReadonlySet<string> = new Set(["twilio-whatsapp", "vonage-whatsapp"]);

/** The metadata key of a send's explicit WhatsApp template: `{name, language?, variables?: {"1": "Thandi"}}`. */
export const WHATSAPP_TEMPLATE_KEY = "whatsapp_template";

/**
 * The metadata key of Seed's WhatsApp template (HSM): `{name, language, variables: ["5", "Hello"]}`, as Seed hubs
 * put it on a send (ndoh-hub) or on a message set's message, whose metadata stage-based messaging copies into each
 * of its sends. Seed's message sender sent it as WhatsApp's `hsm` (`element_name` the name, `language.code` the
 * language as given, `localizable_params` the variables in order).
 */
export const SEED_TEMPLATE_KEY = "template";

/** A field of a send's metadata at fault: its path under the metadata (`template.name`) and what is wrong. */
export interface MetadataProblem {
  field: string;
  message: string;
}

const isText = (value: unknown): value is string => typeof value === "string" && value.trim() !== "";

/**
 * What is wrong with a send's Seed `metadata.template`, each by its field; [] when it is absent (or null) or right. Right is
 * an object with a `name` and a `language` (non-empty strings, the language as the provider knows it: WhatsApp's
 * `en`, `af`, `en_US`, …, given as it is) and `variables` (optional, a list of strings or numbers: the template's
 * parameters in order). Other keys are ignored.
 */
export function seedTemplateProblems(metadata: Record<string, unknown>): MetadataProblem[] {
  const template = metadata[SEED_TEMPLATE_KEY];
  if (template === undefined || template === null) {
    return [];
  }
  if (typeof template !== "object" || template === null || Array.isArray(template)) {
    return [{ field: SEED_TEMPLATE_KEY, message: "must be an object {name, language, variables}" }];
  }
  const { name, language, variables } = template as Record<string, unknown>;
  const problems: MetadataProblem[] = [];
  if (!isText(name)) {
    problems.push({ field: `${SEED_TEMPLATE_KEY}.name`, message: "must be a non-empty string" });
  }
  if (!isText(language)) {
    problems.push({ field: `${SEED_TEMPLATE_KEY}.language`, message: "must be a non-empty string" });
  }
  if (variables !== undefined) {
    if (!Array.isArray(variables)) {
      problems.push({ field: `${SEED_TEMPLATE_KEY}.variables`, message: "must be a list of strings" });
    } else {
      variables.forEach((value, i) => {
        if (typeof value !== "string" && !(typeof value === "number" && Number.isFinite(value))) {
          problems.push({
            field: `${SEED_TEMPLATE_KEY}.variables[${i}]`,
            message: "must be a string or a number",
          });
        }
      });
    }
  }
  return problems;
}

/** A WhatsApp template to send. */
export interface WhatsappTemplateChoice {
  /** The provider's template: a Twilio Content SID (`HX…`), a Content API friendly name, a WhatsApp template name. */
  name: string;
  /** Its language (e.g. `en`); null when an override names none. */
  language: string | null;
  /** The values of its parameters in order: `{{1}}`, `{{2}}`, ... */
  parameters: string[];
  /**
   * Where it came from: the send's `metadata.whatsapp_template`, Seed's `metadata.template`, or its content
   * template.
   */
  source: "metadata" | "seed_metadata" | "content_template";
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
 * The WhatsApp template of an outbound, the first of:
 * 1. its `metadata.whatsapp_template` when it has a `name` (Tidings' explicit override);
 * 2. Seed's `metadata.template` `{name, language, variables}` (see SEED_TEMPLATE_KEY): its name, its language as
 *    given, its variables in order;
 * 3. its content template's `whatsapp` (the version it was rendered from): the template of the send's language
 *    (`metadata.language` or `lang`), else the first (the default), with the parameters' values from
 *    `metadata.template_personalisation`.
 *
 * Undefined when there is none. Throws PermanentSendError when Seed's `template` is there but malformed (the API
 * refuses one with 400, but a message set's metadata reaches the worker without the API) or a content template's
 * parameter has no value: the send can't be made as that template.
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
  if (outbound.metadata[SEED_TEMPLATE_KEY] !== undefined && outbound.metadata[SEED_TEMPLATE_KEY] !== null) {
    const problems = seedTemplateProblems(outbound.metadata);
    if (problems.length > 0) {
      throw new PermanentSendError(
        `whatsapp: metadata.${problems.map((p) => `${p.field} ${p.message}`).join("; metadata.")}`,
      );
    }
    const seed = outbound.metadata[SEED_TEMPLATE_KEY] as {
      name: string;
      language: string;
      variables?: unknown[];
    };
    return {
      name: seed.name,
      language: seed.language,
      parameters: (seed.variables ?? []).map(String),
      source: "seed_metadata",
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
