/** Changes a channel's limits (message-sender's `PATCH /api/v1/channel/{id}/`, admin keys only). */
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { ok } from "../api.ts";
import { ErrorNote, useClient } from "../ui.tsx";

export interface Limits {
  channel_id: string;
  rate_limit: number;
  concurrency_limit: number;
  daily_cap: number | null;
}

const FIELDS = [
  ["rate_limit", "Rate limit (per second, 0 = none)"],
  ["concurrency_limit", "Concurrency limit (0 = none)"],
  ["daily_cap", "Daily cap per person (empty = the service's default, 0 = none)"],
] as const;

export function ChannelLimits({ channel, onDone }: { channel: Limits; onDone: () => void }) {
  const client = useClient();
  const queryClient = useQueryClient();
  const [values, setValues] = useState<Record<(typeof FIELDS)[number][0], string>>({
    rate_limit: String(channel.rate_limit),
    concurrency_limit: String(channel.concurrency_limit),
    daily_cap: channel.daily_cap === null ? "" : String(channel.daily_cap),
  });
  const save = useMutation({
    mutationFn: () =>
      ok(
        client.messageSender.PATCH("/api/v1/channel/{id}/", {
          params: { path: { id: channel.channel_id } },
          body: {
            rate_limit: Number(values.rate_limit),
            concurrency_limit: Number(values.concurrency_limit),
            daily_cap: values.daily_cap === "" ? null : Number(values.daily_cap),
          },
        }),
      ),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ["channels"] });
      onDone();
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate();
  };
  return (
    <form className="stack" onSubmit={submit} aria-labelledby="limits-title">
      <h3 id="limits-title">Limits of {channel.channel_id}</h3>
      {FIELDS.map(([name, label]) => (
        <label key={name} className="stack">
          {label}
          <input
            type="number"
            min={0}
            value={values[name]}
            onChange={(e) => setValues({ ...values, [name]: e.target.value })}
          />
        </label>
      ))}
      <ErrorNote error={save.error} />
      <div className="row">
        <button type="submit" disabled={save.isPending}>
          Save limits
        </button>
        <button type="button" className="secondary" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}
