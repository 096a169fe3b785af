// Rendering of GOV.UK Notify-style templates (`((placeholder))`), shared by the content service (previews)
// and the message sender (templated sends), so both render the same text.

/** GOV.UK Notify's placeholder: `((name))`. Names match case- and space-insensitively, as in Notify. */
const PLACEHOLDER = /\(\(([^()]+?)\)\)/g;

export const placeholderKey = (name: string) => name.toLowerCase().replace(/\s+/g, "");

/** The placeholders of the subject and body, each once (by key), in order of appearance. */
export function placeholdersOf(...texts: (string | null)[]): string[] {
  const seen = new Map<string, string>();
  for (const text of texts) {
    for (const match of (text ?? "").matchAll(PLACEHOLDER)) {
      const name = (match[1] ?? "").trim();
      if (name && !seen.has(placeholderKey(name))) {
        seen.set(placeholderKey(name), name);
      }
    }
  }
  return [...seen.values()];
}

const HTML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#x27;",
};
export const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);

/** Replaces each placeholder with its value (escaped with `encode`); placeholders without a value stay. */
function fill(text: string, values: Map<string, string>, encode: (v: string) => string): string {
  return text.replace(PLACEHOLDER, (whole, name: string) => {
    const value = values.get(placeholderKey(name.trim()));
    return value === undefined ? whole : encode(value);
  });
}

export type TemplateValues = Readonly<Record<string, string | number | boolean>>;

export interface RenderableTemplate {
  type: string;
  subject: string | null;
  body: string;
}

export type RenderResult =
  | { ok: true; subject: string | null; body: string }
  /** The placeholders with no value in `personalisation`, as the template writes them. */
  | { ok: false; missing: string[] };

/**
 * Renders a template with `personalisation`. Every placeholder needs a value; email bodies get their
 * values HTML-escaped (subjects and SMS bodies are plain text).
 */
export function renderTemplate(
  template: RenderableTemplate,
  personalisation: TemplateValues = {},
): RenderResult {
  const values = new Map(
    Object.entries(personalisation).map(([name, value]) => [placeholderKey(name), String(value)]),
  );
  const missing = placeholdersOf(template.subject, template.body).filter(
    (name) => !values.has(placeholderKey(name)),
  );
  if (missing.length > 0) {
    return { ok: false, missing };
  }
  return {
    ok: true,
    subject: template.subject === null ? null : fill(template.subject, values, (v) => v),
    body: fill(template.body, values, template.type === "email" ? escapeHtml : (v) => v),
  };
}
