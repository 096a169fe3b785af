/** Operations: each service's dead letters per queue (replay one or all) and failed tasks (requeue). */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { CLIENT_KEYS, SERVICES, type ServiceName, type TidingsClient } from "@tidings/client";
import { useState } from "react";
import { ok } from "../api.ts";
import { ErrorNote, Loaded, Table, useClient, when } from "../ui.tsx";
import { Archive } from "./Archive.tsx";
import { Channels } from "./Channels.tsx";
import { SchedulerSchedules } from "./SchedulerSchedules.tsx";

/** Every service serves the same dead-letter routes (service-kit), typed alike in each document. */
const deadLetterClient = (client: TidingsClient, service: ServiceName) =>
  client[CLIENT_KEYS[service]] as unknown as TidingsClient["identity"];

function DeadLetters({ service, queue }: { service: ServiceName; queue: string }) {
  const client = deadLetterClient(useClient(), service);
  const queryClient = useQueryClient();
  const letters = useQuery({
    queryKey: ["dead-letters", service, queue],
    queryFn: () =>
      ok(client.GET("/api/v1/dead-letters/{queue}/", { params: { path: { queue }, query: { limit: 100 } } })),
  });
  const replay = useMutation({
    mutationFn: (ids?: string[]) =>
      ok(
        client.POST("/api/v1/dead-letters/{queue}/replay/", {
          params: { path: { queue } },
          body: ids ? { message_ids: ids } : {},
        }),
      ),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["dead-letters", service] }),
  });
  return (
    <div className="stack">
      <ErrorNote error={replay.error} />
      {replay.data && <p role="status">Replayed {replay.data.replayed}.</p>}
      <Loaded query={letters}>
        {(list) =>
          list.length === 0 ? (
            <p>No dead letters in {queue}.</p>
          ) : (
            <>
              <button type="button" onClick={() => replay.mutate(undefined)} disabled={replay.isPending}>
                Replay all {list.length}
              </button>
              <Table caption={`Dead letters of ${queue}`} head={["Failed", "Type", "Error", "Attempts", ""]}>
                {list.map((l) => (
                  <tr key={l.messageId}>
                    <td>{when(l.failedAt)}</td>
                    <td>{l.type}</td>
                    <td className="content">{l.error ?? "—"}</td>
                    <td>{l.attempts}</td>
                    <td>
                      <button
                        type="button"
                        className="secondary"
                        aria-label={`Replay ${l.messageId}`}
                        onClick={() => replay.mutate([l.messageId])}
                        disabled={replay.isPending}
                      >
                        Replay
                      </button>
                    </td>
                  </tr>
                ))}
              </Table>
            </>
          )
        }
      </Loaded>
    </div>
  );
}

interface FailedTask {
  what: string;
  reason: string | null;
  since: string | null;
}

const task = (what: string, t: { reason: string | null; initiated_at: string | null }): FailedTask => ({
  what,
  reason: t.reason,
  since: t.initiated_at,
});

/** The services that keep failed tasks: how to list them (in one shape) and requeue them all. */
const FAILED_TASKS: Partial<
  Record<
    ServiceName,
    { list(c: TidingsClient): Promise<FailedTask[]>; requeue(c: TidingsClient): Promise<unknown> }
  >
> = {
  "message-sender": {
    list: async (c) =>
      (await ok(c.messageSender.GET("/api/v1/failed-tasks/"))).results.map((t) =>
        task(`outbound ${t.outbound}`, t),
      ),
    requeue: (c) => ok(c.messageSender.POST("/api/v1/failed-tasks/")),
  },
  scheduler: {
    list: async (c) =>
      (await ok(c.scheduler.GET("/api/v1/failed-tasks/"))).results.map((t) =>
        task(`schedule ${t.schedule}`, t),
      ),
    requeue: (c) => ok(c.scheduler.POST("/api/v1/failed-tasks/")),
  },
  subscription: {
    list: async (c) =>
      (await ok(c.subscription.GET("/api/v1/failed-tasks/"))).results.map((t) =>
        task(`subscription ${t.subscription}`, t),
      ),
    requeue: (c) => ok(c.subscription.POST("/api/v1/failed-tasks/")),
  },
};

function FailedTasks({ service }: { service: ServiceName }) {
  const kept = FAILED_TASKS[service];
  const client = useClient();
  const queryClient = useQueryClient();
  const tasks = useQuery({
    queryKey: ["failed-tasks", service],
    queryFn: () => kept?.list(client) ?? null,
  });
  const requeueAll = useMutation({
    mutationFn: () => kept?.requeue(client) ?? Promise.resolve(null),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["failed-tasks", service] }),
  });
  return (
    <Loaded query={tasks}>
      {(list) =>
        list === null ? null : (
          <div className="stack">
            <h3>Failed tasks</h3>
            <ErrorNote error={requeueAll.error} />
            {list.length === 0 ? (
              <p>No failed tasks.</p>
            ) : (
              <>
                <button type="button" onClick={() => requeueAll.mutate()} disabled={requeueAll.isPending}>
                  Requeue all {list.length}
                </button>
                <Table caption={`Failed tasks of ${service}`} head={["What", "Reason", "Since"]}>
                  {list.map((t) => (
                    <tr key={t.what}>
                      <td>{t.what}</td>
                      <td>{t.reason ?? "—"}</td>
                      <td>{when(t.since)}</td>
                    </tr>
                  ))}
                </Table>
              </>
            )}
          </div>
        )
      }
    </Loaded>
  );
}

function ServicePanel({ service }: { service: ServiceName }) {
  const client = deadLetterClient(useClient(), service);
  const [queue, setQueue] = useState<string | null>(null);
  const counts = useQuery({
    queryKey: ["dead-letters", service],
    refetchInterval: 5_000,
    queryFn: () => ok(client.GET("/api/v1/dead-letters/")),
  });
  return (
    <section aria-labelledby={`ops-${service}`} className="card">
      <h2 id={`ops-${service}`}>{service}</h2>
      <Loaded query={counts}>
        {(queues) => (
          <ul className="queues">
            {queues.map((q) => (
              <li key={q.queue}>
                <button
                  type="button"
                  className={q.dead_letters > 0 ? "" : "secondary"}
                  aria-pressed={queue === q.queue}
                  onClick={() => setQueue(queue === q.queue ? null : q.queue)}
                >
                  {q.queue}: {q.dead_letters} dead
                </button>
              </li>
            ))}
          </ul>
        )}
      </Loaded>
      {queue && <DeadLetters service={service} queue={queue} />}
      <FailedTasks service={service} />
    </section>
  );
}

export function Operations() {
  return (
    <>
      <h1>Operations</h1>
      {SERVICES.map((service) => (
        <ServicePanel key={service} service={service} />
      ))}
      <Channels />
      <SchedulerSchedules />
      <Archive />
    </>
  );
}
