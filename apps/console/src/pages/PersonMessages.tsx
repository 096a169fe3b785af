/** A person's messages both ways (refreshed live), each outbound's status history, resend, and a one-off send. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { ok } from "../api.ts";
import { ErrorNote, Loaded, Table, useClient, when } from "../ui.tsx";

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

export function Messages({ id }: { id: string }) {
  const client = useClient();
  const queryClient = useQueryClient();
  const [open, setOpen] = useState<string | null>(null);
  const messages = useQuery({
    queryKey: ["messages", id],
    refetchInterval: 2_000,
    queryFn: () =>
      ok(
        client.messageSender.GET("/api/v1/identities/{identity_id}/messages/", {
          params: { path: { identity_id: id }, query: { limit: 50 } },
        }),
      ),
  });
  const resend = useMutation({
    mutationFn: (outbound: string) =>
      ok(client.messageSender.POST("/api/v1/outbound/resend/", { body: { ids: [outbound] } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["messages", id] }),
  });
  return (
    <section aria-labelledby="messages">
      <h2 id="messages">Messages</h2>
      <SendForm id={id} />
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
            <Table caption="Messages, newest first" head={["When", "Direction", "Content", "Status", ""]}>
              {page.results.map((m) => (
                <tr key={m.id}>
                  <td>{when(m.created_at)}</td>
                  <td>{m.direction === "outbound" ? "sent" : "received"}</td>
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
