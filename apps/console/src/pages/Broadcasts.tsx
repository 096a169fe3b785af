/**
 * Broadcasts: the subscription service's topics with their subscribers; a publish to one, previewed (what is sent,
 * to how many, per channel and language) and confirmed; then its progress, polled until every recipient is done.
 */
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { ok } from "../api.ts";
import { ConfirmDialog, ErrorNote, ListTable, useApi, useClient } from "../ui.tsx";
import { PublishProgress } from "./PublishProgress.tsx";
import { useTemplates } from "./Templates.tsx";

interface Draft {
  content?: string;
  template?: number;
  subject?: string;
  personalisation: Record<string, string>;
  channels?: string[];
}

/** `name=value` lines into personalisation values. */
const parseValues = (text: string): Record<string, string> =>
  Object.fromEntries(
    text
      .split("\n")
      .map((line) => line.split("="))
      .filter((parts) => parts.length > 1 && (parts[0] ?? "").trim() !== "")
      .map(([name, ...rest]) => [(name ?? "").trim(), rest.join("=").trim()]),
  );

const newPublishId = () => `console-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;

const listed = (counts: Record<string, number>) =>
  Object.entries(counts)
    .map(([key, n]) => `${key} ${n}`)
    .join(", ") || "none";

function Composer({ topic, onPublished }: { topic: string; onPublished: (publishId: string) => void }) {
  const client = useClient();
  const queryClient = useQueryClient();
  const [content, setContent] = useState("");
  const [template, setTemplate] = useState("");
  const [subject, setSubject] = useState("");
  const [values, setValues] = useState("");
  const [channels, setChannels] = useState("");
  const [confirming, setConfirming] = useState(false);
  const templates = useTemplates();
  const preview = useMutation({
    mutationFn: (draft: Draft) =>
      ok(
        client.subscription.POST("/api/v1/topics/{topic}/publish/preview/", {
          params: { path: { topic } },
          body: draft,
        }),
      ).then((shown) => ({ shown, draft, publishId: newPublishId() })),
    onSuccess: () => setConfirming(false),
  });
  const publish = useMutation({
    mutationFn: ({ draft, publishId }: { draft: Draft; publishId: string }) =>
      ok(
        client.subscription.POST("/api/v1/topics/{topic}/publish/", {
          params: { path: { topic } },
          body: { ...draft, publish_id: publishId },
        }),
      ),
    onSuccess: async (accepted) => {
      onPublished(accepted.publish_id);
      await queryClient.invalidateQueries({ queryKey: ["topics"] });
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const wanted = channels
      .split(",")
      .map((c) => c.trim())
      .filter(Boolean);
    preview.mutate({
      ...(template ? { template: Number(template) } : { content }),
      ...(subject ? { subject } : {}),
      personalisation: parseValues(values),
      ...(wanted.length > 0 ? { channels: wanted } : {}),
    });
  };
  const ready = preview.data;
  return (
    <section className="card stack" aria-labelledby="compose-title">
      <h2 id="compose-title">Publish to {topic}</h2>
      <form className="stack" onSubmit={submit}>
        <label htmlFor="bc-template">Template</label>
        <select id="bc-template" value={template} onChange={(e) => setTemplate(e.target.value)}>
          <option value="">None: write the message</option>
          {templates.data?.results.map((t) => (
            <option key={t.id} value={t.id}>
              {t.name} ({t.type})
            </option>
          ))}
        </select>
        <ErrorNote error={templates.error} />
        {!template && (
          <>
            <label htmlFor="bc-content">Message</label>
            <textarea
              id="bc-content"
              rows={3}
              value={content}
              aria-describedby="bc-content-help"
              onChange={(e) => setContent(e.target.value)}
            />
            <p id="bc-content-help" className="muted">
              {"<<field>> and ((field)) are filled from the values below, then from each person's details."}
            </p>
          </>
        )}
        <label htmlFor="bc-subject">Subject (email)</label>
        <input id="bc-subject" value={subject} onChange={(e) => setSubject(e.target.value)} />
        <label htmlFor="bc-values">Values (one name=value a line)</label>
        <textarea id="bc-values" rows={2} value={values} onChange={(e) => setValues(e.target.value)} />
        <label htmlFor="bc-channels">Channels (comma-separated; empty: all)</label>
        <input id="bc-channels" value={channels} onChange={(e) => setChannels(e.target.value)} />
        <button type="submit" disabled={preview.isPending}>
          Preview
        </button>
      </form>
      <ErrorNote error={preview.error} />
      {ready && !preview.isPending && (
        <div className="stack" data-testid="publish-preview">
          <h3>Preview</h3>
          <p>
            <strong>
              {ready.shown.recipients} of {ready.shown.subscribers} subscribers
            </strong>{" "}
            would receive {ready.shown.messages} message{ready.shown.messages === 1 ? "" : "s"}.
          </p>
          <p>By channel: {listed(ready.shown.channels)}</p>
          <p>By language: {listed(ready.shown.languages)}</p>
          {ready.shown.subject && <p>Subject: {ready.shown.subject}</p>}
          <p className="content">Text: {ready.shown.content}</p>
          {ready.shown.sample &&
            (ready.shown.sample.missing ? (
              <p className="warning">
                The first recipient has no {ready.shown.sample.missing}: they would get nothing.
              </p>
            ) : (
              <p className="content">First recipient gets: {ready.shown.sample.body}</p>
            ))}
          {confirming ? (
            <ConfirmDialog
              id="bc-confirm"
              title={`Send to ${ready.shown.recipients} people on ${topic}?`}
              action="Publish now"
              disabled={publish.isPending}
              error={publish.error}
              onConfirm={() => publish.mutate({ draft: ready.draft, publishId: ready.publishId })}
              onCancel={() => setConfirming(false)}
              text="Once published, it cannot be stopped."
            />
          ) : (
            <button type="button" onClick={() => setConfirming(true)}>
              Publish…
            </button>
          )}
        </div>
      )}
    </section>
  );
}

export function Broadcasts() {
  const [topic, setTopic] = useState<string | null>(null);
  const [published, setPublished] = useState<string | null>(null);
  const topics = useApi(["topics"], (c) =>
    c.subscription.GET("/api/v1/topics/", { params: { query: { limit: 100 } } }),
  );
  return (
    <>
      <h1>Broadcasts</h1>
      <ListTable
        query={topics}
        empty="No topic has subscribers yet."
        caption="Topics"
        head={["Topic", "Subscribers", ""]}
        row={(t) => (
          <tr key={t.topic}>
            <td>{t.topic}</td>
            <td>{t.subscribers}</td>
            <td className="actions">
              <button
                type="button"
                className="secondary"
                aria-label={`Publish to ${t.topic}`}
                onClick={() => {
                  setTopic(t.topic);
                  setPublished(null);
                }}
              >
                Publish…
              </button>
            </td>
          </tr>
        )}
      />
      {published ? (
        <PublishProgress publishId={published} />
      ) : (
        topic && <Composer key={topic} topic={topic} onPublished={setPublished} />
      )}
    </>
  );
}
