/**
 * A message's audio: the player of the file content serves for it, and an upload that stores a new file
 * (content's POST /api/v1/binarycontent/, multipart) and points the message at it.
 */
import { useMutation } from "@tanstack/react-query";
import { type FormEvent, useId, useState } from "react";
import { ok } from "../api.ts";
import { ErrorNote, useClient } from "../ui.tsx";

/**
 * Where the browser fetches a file content serves: its URL as is when content has a `PUBLIC_URL`, else
 * content's path (`/media/<key>`) through the console's forwarding.
 */
export const mediaUrl = (url: string): string => (url.startsWith("/") ? `/api/content${url}` : url);

export function MessageAudio({
  message,
  label,
  url,
  onChanged,
}: {
  message: number;
  label: string;
  url: string | null | undefined;
  onChanged: () => void;
}) {
  const client = useClient();
  const id = useId();
  const [file, setFile] = useState<File | null>(null);
  const upload = useMutation({
    mutationFn: async (chosen: File) => {
      const form = new FormData();
      form.append("content", chosen, chosen.name);
      const stored = await ok(client.content.POST("/api/v1/binarycontent/", { body: form as never }));
      return ok(
        client.content.PATCH("/api/v1/message/{id}/", {
          params: { path: { id: message } },
          body: { binary_content: stored.id },
        }),
      );
    },
    onSuccess: () => {
      setFile(null);
      onChanged();
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (file) {
      upload.mutate(file);
    }
  };
  return (
    <div className="stack">
      {url ? (
        // biome-ignore lint/a11y/useMediaCaption: a programme's recorded message; its text is shown beside it.
        <audio controls preload="none" src={mediaUrl(url)} aria-label={`Audio of ${label}`} />
      ) : (
        <p className="muted">No audio yet.</p>
      )}
      <form className="row" onSubmit={submit}>
        <label htmlFor={`${id}-file`}>Audio file for {label}</label>
        <input
          id={`${id}-file`}
          type="file"
          accept="audio/*"
          onChange={(e) => setFile(e.target.files?.[0] ?? null)}
        />
        <button type="submit" className="secondary" disabled={!file || upload.isPending}>
          {upload.isPending ? "Uploading…" : "Upload"}
        </button>
      </form>
      <ErrorNote error={upload.error} />
    </div>
  );
}
