/**
 * Content's templates, and one template's preview: content renders it (POST /api/v1/template/{id}/preview/)
 * with a sample value for each placeholder, re-rendered as the values are edited.
 */
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useId, useState } from "react";
import { ok } from "../api.ts";
import { ErrorNote, ListTable, useApi, useClient, useSettled } from "../ui.tsx";

interface Template {
  id: number;
  name: string;
  type: "sms" | "email";
  version: number;
  placeholders: string[];
}

function Preview({ template }: { template: Template }) {
  const client = useClient();
  const id = useId();
  // A sample value per placeholder to start from: its own name.
  const [values, setValues] = useState<Record<string, string>>(() =>
    Object.fromEntries(template.placeholders.map((p) => [p, p])),
  );
  const settled = useSettled(values, 200);
  // An empty field is a value not given: content names the placeholders left without one.
  const personalisation = Object.fromEntries(Object.entries(settled).filter(([, v]) => v !== ""));
  const preview = useQuery({
    queryKey: ["template-preview", template.id, template.version, personalisation],
    placeholderData: keepPreviousData,
    queryFn: () =>
      ok(
        client.content.POST("/api/v1/template/{id}/preview/", {
          params: { path: { id: template.id } },
          body: { personalisation },
        }),
      ),
  });
  const shown = preview.data;
  return (
    <section className="card stack" aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>
        Preview of {template.name} (version {template.version})
      </h3>
      {template.placeholders.map((p) => (
        <div className="row" key={p}>
          <label htmlFor={`${id}-${p}`}>{p}</label>
          <input
            id={`${id}-${p}`}
            value={values[p] ?? ""}
            onChange={(e) => setValues({ ...values, [p]: e.target.value })}
          />
        </div>
      ))}
      <ErrorNote error={preview.error} />
      {shown && !preview.error && (
        <div data-testid="template-preview" aria-live="polite">
          {shown.subject !== null && (
            <p>
              <strong>Subject:</strong> {shown.subject}
            </p>
          )}
          <p className="content">{shown.body}</p>
          {shown.type === "sms" && (
            <p className="muted">
              {shown.encoding ?? "empty"}, {shown.segments} segment{shown.segments === 1 ? "" : "s"}
            </p>
          )}
        </div>
      )}
    </section>
  );
}

/** Content's templates (the first 100). */
export function useTemplates() {
  return useApi(["templates"], (c) =>
    c.content.GET("/api/v1/template/", { params: { query: { limit: 100 } } }),
  );
}

export function Templates() {
  const [previewing, setPreviewing] = useState<Template | null>(null);
  const templates = useTemplates();
  return (
    <>
      <h2>Templates</h2>
      <ListTable
        query={templates}
        empty="No templates."
        caption="Templates and their placeholders"
        head={["Name", "Type", "Version", "Placeholders", ""]}
        row={(t) => (
          <tr key={t.id}>
            <td>{t.name}</td>
            <td>{t.type}</td>
            <td>{t.version}</td>
            <td>{t.placeholders.join(", ") || "—"}</td>
            <td className="actions">
              <button
                type="button"
                className="secondary"
                aria-label={`Preview ${t.name}`}
                onClick={() => setPreviewing(t)}
              >
                Preview
              </button>
            </td>
          </tr>
        )}
      />
      {previewing && <Preview key={`${previewing.id}.${previewing.version}`} template={previewing} />}
    </>
  );
}
