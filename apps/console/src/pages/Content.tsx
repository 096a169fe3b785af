/** Content: the message sets, and one set's messages with each language side by side, edited in place. */
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { ok } from "../api.ts";
import { ErrorNote, Loaded, Table, useApi, useClient } from "../ui.tsx";
import { MessageAudio } from "./MessageAudio.tsx";
import { MessageEditor } from "./MessageEditor.tsx";
import { Schedules } from "./Schedules.tsx";
import { Templates } from "./Templates.tsx";

interface Message {
  id: number;
  sequence_number: number;
  lang: string;
  text_content: string | null;
  encoding?: string | null;
  segments?: number;
  binary_content?: { content: string } | null;
}

function MessageSets() {
  const sets = useApi(["messagesets"], (c) =>
    c.content.GET("/api/v1/messageset/", { params: { query: { limit: 100 } } }),
  );
  return (
    <>
      <h1>Content</h1>
      <Loaded query={sets}>
        {(page) => (
          <Table caption="Message sets" head={["Short name", "Label", "Channel", "Type"]}>
            {page.results.map((s) => (
              <tr key={s.id}>
                <td>
                  <a href={`#/content/${s.id}`}>{s.short_name}</a>
                </td>
                <td>{s.label ?? "—"}</td>
                <td>{s.channel ?? "default"}</td>
                <td>{s.content_type}</td>
              </tr>
            ))}
          </Table>
        )}
      </Loaded>
      <Templates />
      <Schedules />
    </>
  );
}

function NewMessage({ messageset, onDone }: { messageset: number; onDone: () => void }) {
  const client = useClient();
  const [sequence, setSequence] = useState(1);
  const [lang, setLang] = useState("eng_ZA");
  const create = useMutation({
    mutationFn: (text: string) =>
      ok(
        client.content.POST("/api/v1/message/", {
          body: { messageset, sequence_number: sequence, lang, text_content: text },
        }),
      ),
    onSuccess: onDone,
  });
  const stop = (event: FormEvent) => event.preventDefault();
  return (
    <div className="card stack">
      <h2>New message</h2>
      <form className="row" onSubmit={stop}>
        <label htmlFor="new-seq">Sequence number</label>
        <input
          id="new-seq"
          type="number"
          min={1}
          value={sequence}
          onChange={(e) => setSequence(Number(e.target.value))}
        />
        <label htmlFor="new-lang">Language</label>
        <input id="new-lang" value={lang} onChange={(e) => setLang(e.target.value)} />
      </form>
      <MessageEditor
        messageset={messageset}
        initial=""
        label="Text"
        saving={create.isPending}
        error={create.error}
        onSave={(text) => create.mutate(text)}
        onCancel={onDone}
      />
    </div>
  );
}

function MessageSet({ id }: { id: number }) {
  const client = useClient();
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState<number | null>(null);
  const [adding, setAdding] = useState(false);
  const set = useApi(["messageset", id], (c) =>
    c.content.GET("/api/v1/messageset/{id}/messages", { params: { path: { id } } }),
  );
  const refresh = () => queryClient.invalidateQueries({ queryKey: ["messageset", id] });
  const save = useMutation({
    mutationFn: ({ message, text }: { message: number; text: string }) =>
      ok(
        client.content.PATCH("/api/v1/message/{id}/", {
          params: { path: { id: message } },
          body: { text_content: text },
        }),
      ),
    onSuccess: async () => {
      setEditing(null);
      await refresh();
    },
  });
  return (
    <Loaded query={set}>
      {(s) => {
        const messages = s.messages as Message[];
        const langs = [...new Set(messages.map((m) => m.lang))].sort();
        const sequences = [...new Set(messages.map((m) => m.sequence_number))].sort((a, b) => a - b);
        const cell = (seq: number, lang: string) =>
          messages.find((m) => m.sequence_number === seq && m.lang === lang);
        return (
          <>
            <p>
              <a href="#/content">All message sets</a>
            </p>
            <h1>{s.short_name}</h1>
            <p className="muted">
              {s.label ?? ""} Channel {s.channel ?? "default"}, {s.content_type}, {messages.length} messages
            </p>
            {adding ? (
              <NewMessage
                messageset={id}
                onDone={() => {
                  setAdding(false);
                  void refresh();
                }}
              />
            ) : (
              <button type="button" onClick={() => setAdding(true)}>
                New message
              </button>
            )}
            <Table caption="Messages by sequence number and language" head={["#", ...langs]}>
              {sequences.map((seq) => (
                <tr key={seq}>
                  <th scope="row">{seq}</th>
                  {langs.map((lang) => {
                    const m = cell(seq, lang);
                    if (!m) {
                      return <td key={lang}>—</td>;
                    }
                    return (
                      <td key={lang} className="content">
                        {editing === m.id ? (
                          <MessageEditor
                            messageset={id}
                            initial={m.text_content ?? ""}
                            label={`Message ${seq} (${lang})`}
                            saving={save.isPending}
                            error={save.error}
                            onSave={(text) => save.mutate({ message: m.id, text })}
                            onCancel={() => setEditing(null)}
                          />
                        ) : (
                          <>
                            <p>{m.text_content ?? "(audio only)"}</p>
                            <p className="muted">
                              {m.encoding ?? "—"}, {m.segments ?? 0} segment{m.segments === 1 ? "" : "s"}
                            </p>
                            <button
                              type="button"
                              className="secondary"
                              aria-label={`Edit message ${seq} (${lang})`}
                              onClick={() => setEditing(m.id)}
                            >
                              Edit
                            </button>
                            {s.content_type === "audio" && (
                              <MessageAudio
                                message={m.id}
                                label={`message ${seq} (${lang})`}
                                url={m.binary_content?.content}
                                onChanged={() => void refresh()}
                              />
                            )}
                          </>
                        )}
                      </td>
                    );
                  })}
                </tr>
              ))}
            </Table>
            <ErrorNote error={save.error && editing === null ? save.error : null} />
          </>
        );
      }}
    </Loaded>
  );
}

export function Content({ setId }: { setId?: number }) {
  return setId ? <MessageSet id={setId} /> : <MessageSets />;
}
