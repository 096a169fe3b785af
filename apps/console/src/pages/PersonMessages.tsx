/**
 * A person's messages both ways (refreshed live), or one subscription's, each outbound's status history, the set
 * and position of a subscription's message, resend, and a one-off send.
 */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useMemo, useState } from "react";
import { ok, type TidingsClient } from "../api.ts";
import { ErrorNote, Loaded, Table, useClient, when } from "../ui.tsx";
import { originOf, usePersonSubscriptions } from "./person-subscriptions.ts";

const RESENDABLE = new Set(["failed", "expired"]);

function History({ id }: { id: string }) {
  const client = useClient();
  const history = useQuery({
    queryKey: ["history", id],
    refetchInterval: 2_000,
    queryFn: () =>
      ok(client.messageSender.GET("/api/v1/outbound/{id}/history/", { params: { path: { id } } })),
  });
  return (
    <Loaded query={history}>
      {(h) => (
        <ol className="history" aria-label="Status history">
          <li>
            {when(h.created_at)}: <strong>queued</strong> (accepted)
          </li>
          {h.history.map((entry) => (
            <li key={`${entry.at}-${entry.status}`}>
              {when(entry.at)}: <strong>{entry.status}</strong>
              {entry.channel ? ` via ${entry.channel}` : ""}
              {entry.reason ? ` (${entry.reason})` : ""}
            </li>
          ))}
        </ol>
      )}
    </Loaded>
  );
}

function SendForm({ id }: { id: string }) {
  const client = useClient();
  const queryClient = useQueryClient();
  const [content, setContent] = useState("");
  const send = useMutation({
    mutationFn: (text: string) =>
      ok(
        client.messageSender.POST("/api/v1/outbound/", {
          params: { header: { "Idempotency-Key": crypto.randomUUID() } },
          body: { to_identity: id, content: text, metadata: { source: "console" } },
        }),
      ),
    onSuccess: () => {
      setContent("");
      return queryClient.invalidateQueries({ queryKey: ["messages", id] });
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    send.mutate(content);
  };
  return (
    <form onSubmit={submit} className="stack">
      <label htmlFor="send-content">Send a message</label>
      <textarea
        id="send-content"
        required
        rows={2}
        value={content}
        onChange={(e) => setContent(e.target.value)}
      />
      <button type="submit" disabled={send.isPending}>
        Send
      </button>
      <ErrorNote error={send.error} />
    </form>
  );
}

/**
 * The person's newest 50 messages both ways (message-sender's helpdesk list), or with `subscription` the newest 50
 * that subscription sent (`GET /api/v1/outbound/?created_by_subscription=`, all outbounds).
 */
async function personMessages(client: TidingsClient, id: string, subscription: string | undefined) {
  if (!subscription) {
    return ok(
      client.messageSender.GET("/api/v1/identities/{identity_id}/messages/", {
        params: { path: { identity_id: id }, query: { limit: 50 } },
      }),
    );
  }
  const page = await ok(
    client.messageSender.GET("/api/v1/outbound/", {
      params: { query: { created_by_subscription: subscription, limit: 50 } },
    }),
  );
  return { ...page, results: page.results.map((o) => ({ ...o, direction: "outbound" as const })) };
}

export function Messages({ id, subscription }: { id: string; subscription?: string }) {
  const client = useClient();
  const queryClient = useQueryClient();
  const [open, setOpen] = useState<string | null>(null);
  const messages = useQuery({
    queryKey: ["messages", id, subscription ?? null],
    refetchInterval: 2_000,
    queryFn: () => personMessages(client, id, subscription),
  });
  // Which set each of the person's subscriptions sends: a subscription's message shows its set and position.
  const subscriptions = usePersonSubscriptions(id);
  const labels = useMemo(
    () => new Map((subscriptions.data?.results ?? []).map((s) => [s.id, s.messageset_label])),
    [subscriptions.data],
  );
  const resend = useMutation({
    mutationFn: (outbound: string) =>
      ok(client.messageSender.POST("/api/v1/outbound/resend/", { body: { ids: [outbound] } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["messages", id] }),
  });
  return (
    <section aria-labelledby="messages">
      <h2 id="messages">Messages</h2>
      {subscription && (
        <p>
          Only the messages of the subscription to {labels.get(subscription) || <code>{subscription}</code>}.{" "}
          <a href={`#/people/${id}`}>Show all messages</a>
        </p>
      )}
      {!subscription && <SendForm id={id} />}
      <ErrorNote error={resend.error} />
      {resend.data && (
        <p role="status">
          Resend:{" "}
          {Object.entries(resend.data.counts ?? {})
            .map(([k, v]) => `${k} ${v}`)
            .join(", ")}
        </p>
      )}
      <Loaded query={messages}>
        {(page) =>
          page.results.length === 0 ? (
            <p>No messages yet.</p>
          ) : (
            <Table
              caption="Messages, newest first"
              head={["When", "Direction", "Message set", "Content", "Status", ""]}
            >
              {page.results.map((m) => (
                <tr key={m.id}>
                  <td>{when(m.created_at)}</td>
                  <td>{m.direction === "outbound" ? "sent" : "received"}</td>
                  <td>{(m.direction === "outbound" && originOf(m, labels)) || "—"}</td>
                  <td className="content">{m.content ?? "—"}</td>
                  <td>
                    {m.direction === "outbound" ? (
                      <>
                        <span className={`status status-${m.status}`}>{m.status}</span>
                        {m.last_error ? <div className="muted">{m.last_error}</div> : null}
                        {open === m.id && <History id={m.id} />}
                      </>
                    ) : (
                      "—"
                    )}
                  </td>
                  <td className="actions">
                    {m.direction === "outbound" && (
                      <button
                        type="button"
                        className="secondary"
                        aria-expanded={open === m.id}
                        onClick={() => setOpen(open === m.id ? null : m.id)}
                      >
                        History
                      </button>
                    )}
                    {m.direction === "outbound" && RESENDABLE.has(m.status) && (
                      <button type="button" onClick={() => resend.mutate(m.id)} disabled={resend.isPending}>
                        Resend
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </Table>
          )
        }
      </Loaded>
    </section>
  );
}
