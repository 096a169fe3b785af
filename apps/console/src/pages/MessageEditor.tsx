/**
 * A message's text editor: as the author types, the content service's pre-flight (POST /api/v1/message/preflight/)
 * tells its SMS encoding, length and segments, and the problem saving it would give.
 */
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { type FormEvent, useId, useState } from "react";
import { ok } from "../api.ts";
import { Actions, ErrorNote, useClient, useSettled } from "../ui.tsx";

export function MessageEditor({
  messageset,
  initial,
  label,
  saving,
  error,
  onSave,
  onCancel,
}: {
  messageset: number;
  initial: string;
  label: string;
  saving: boolean;
  error: unknown;
  onSave: (text: string) => void;
  onCancel: () => void;
}) {
  const client = useClient();
  const id = useId();
  const [text, setText] = useState(initial);
  const settled = useSettled(text, 150);
  const preflight = useQuery({
    queryKey: ["preflight", messageset, settled],
    placeholderData: keepPreviousData,
    queryFn: () =>
      ok(
        client.content.POST("/api/v1/message/preflight/", {
          body: { text_content: settled, messageset },
        }),
      ),
  });
  const info = preflight.data;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onSave(text);
  };
  return (
    <form className="stack editor" onSubmit={submit}>
      <label htmlFor={`${id}-text`}>{label}</label>
      <textarea
        id={`${id}-text`}
        rows={4}
        value={text}
        aria-describedby={`${id}-sms`}
        onChange={(e) => setText(e.target.value)}
      />
      <p id={`${id}-sms`} className="sms" aria-live="polite" data-testid="sms-info">
        {info ? (
          <>
            <span>{info.encoding ?? "empty"}</span> · <span>{info.characters} characters</span> ·{" "}
            <span>
              {info.units}/{info.segment_limit * Math.max(info.segments, 1)} units
            </span>{" "}
            · <strong>{info.segments === 1 ? "1 segment" : `${info.segments} segments`}</strong>
            {info.non_gsm_characters.length > 0 && (
              <> · UCS-2 because of {info.non_gsm_characters.join(" ")}</>
            )}
          </>
        ) : (
          "Checking…"
        )}
      </p>
      {info?.problem && (
        <p className="warning" role="status">
          {info.problem}
        </p>
      )}
      <ErrorNote error={preflight.error} />
      <Actions onCancel={onCancel} error={error}>
        <button type="submit" disabled={saving}>
          Save
        </button>
      </Actions>
    </form>
  );
}
