/**
 * Operations' scheduler section: the scheduler's schedules with their next and last runs, each one's recent fired
 * runs on demand, "Disable"/"Enable" and "Fire now" (the scheduler's manual fire). A schedule mirrored from content
 * names its content schedule and is only fired here: it is changed through content.
 */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { ok } from "../api.ts";
import { ErrorNote, Loaded, Table, useClient, when } from "../ui.tsx";
import { REFRESH_MS } from "./Overview.tsx";

const RECENT_RUNS = 10;

function Runs({ id }: { id: string }) {
  const client = useClient();
  const runs = useQuery({
    queryKey: ["scheduler-runs", id],
    refetchInterval: REFRESH_MS,
    queryFn: () =>
      ok(
        client.scheduler.GET("/api/v1/schedule/{id}/runs/", {
          params: { path: { id }, query: { limit: RECENT_RUNS } },
        }),
      ),
  });
  return (
    <Loaded query={runs}>
      {(page) =>
        page.results.length === 0 ? (
          <p>Not fired yet.</p>
        ) : (
          <Table caption={`Recent runs of schedule ${id}`} head={["Slot", "Trigger", "Fired", "Delivered"]}>
            {page.results.map((r) => (
              <tr key={r.id}>
                <td>{when(r.slot)}</td>
                <td>{r.trigger}</td>
                <td>{when(r.fired_at)}</td>
                <td>{when(r.delivered_at)}</td>
              </tr>
            ))}
          </Table>
        )
      }
    </Loaded>
  );
}

export function SchedulerSchedules() {
  const client = useClient();
  const queryClient = useQueryClient();
  const [open, setOpen] = useState<string | null>(null);
  const schedules = useQuery({
    queryKey: ["scheduler-schedules"],
    refetchInterval: REFRESH_MS,
    queryFn: () => ok(client.scheduler.GET("/api/v1/schedule/", { params: { query: { limit: 100 } } })),
  });
  const enable = useMutation({
    mutationFn: ({ id, enabled }: { id: string; enabled: boolean }) =>
      ok(client.scheduler.PATCH("/api/v1/schedule/{id}/", { params: { path: { id } }, body: { enabled } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["scheduler-schedules"] }),
  });
  const fire = useMutation({
    mutationFn: (id: string) =>
      ok(client.scheduler.POST("/api/v1/schedule/{id}/fire/", { params: { path: { id } } })),
    onSuccess: (_, id) => {
      setOpen(id);
      return queryClient.invalidateQueries({ queryKey: ["scheduler-runs", id] });
    },
  });
  return (
    <section aria-labelledby="ops-schedules" className="card">
      <h2 id="ops-schedules">Scheduler</h2>
      <ErrorNote error={fire.error ?? enable.error} />
      <Loaded query={schedules}>
        {(page) =>
          page.results.length === 0 ? (
            <p>No schedules.</p>
          ) : (
            <Table
              caption={`Schedules (${page.count}), newest first`}
              head={["Schedule", "Target", "Enabled", "Next run", "Last run", ""]}
            >
              {page.results.map((s) => (
                <tr key={s.id}>
                  <td>
                    {[
                      s.cron_definition && `cron ${s.cron_definition}`,
                      s.interval_definition && `every ${s.interval_definition}`,
                    ]
                      .filter(Boolean)
                      .join(", ")}{" "}
                    ({s.timezone})
                  </td>
                  <td className="content">
                    {s.source
                      ? `${s.source.service} schedule ${s.source.ref} (follows it)`
                      : (s.endpoint ?? s.message ?? "schedule.fired")}
                  </td>
                  <td>{s.enabled ? "yes" : "no"}</td>
                  <td>{when(s.next_send_at)}</td>
                  <td>{when(s.last_run)}</td>
                  <td className="actions">
                    <button
                      type="button"
                      className="secondary"
                      aria-expanded={open === s.id}
                      aria-label={`Runs of schedule ${s.id}`}
                      onClick={() => setOpen(open === s.id ? null : s.id)}
                    >
                      Runs
                    </button>
                    {/* A mirrored schedule is changed through its owner (the scheduler answers 409). */}
                    {!s.source && (
                      <button
                        type="button"
                        className="secondary"
                        aria-label={`${s.enabled ? "Disable" : "Enable"} schedule ${s.id}`}
                        onClick={() => enable.mutate({ id: s.id, enabled: !s.enabled })}
                        disabled={enable.isPending}
                      >
                        {s.enabled ? "Disable" : "Enable"}
                      </button>
                    )}
                    <button
                      type="button"
                      aria-label={`Fire now: schedule ${s.id}`}
                      onClick={() => fire.mutate(s.id)}
                      disabled={fire.isPending}
                    >
                      Fire now
                    </button>
                  </td>
                </tr>
              ))}
            </Table>
          )
        }
      </Loaded>
      {open && <Runs id={open} />}
    </section>
  );
}
