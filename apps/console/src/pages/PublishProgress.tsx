/** A topic publish's progress (GET /api/v1/publishes/{id}/), polled until every recipient's message is final. */
import { useQuery } from "@tanstack/react-query";
import { ok } from "../api.ts";
import { Loaded, useClient } from "../ui.tsx";

interface PublishRecord {
  recipients: number;
  handed_on: number | null;
  recorded: number;
  counts: Record<string, number>;
}

/** How many recipients the publish is sending to: those its fan-out handed on, once it has (else those counted). */
const target = (r: PublishRecord) => r.handed_on ?? r.recipients;

/** Every recipient the fan-out handed on has its record (its batch has run). */
const allReached = (r: PublishRecord) => r.handed_on !== null && r.recorded >= r.handed_on;

/** Final: every recipient handed on is reached and no message is still waiting for its delivery report. */
const isFinal = (r: PublishRecord | undefined): boolean =>
  r !== undefined && allReached(r) && !r.counts.queued;

const POLL_MS = 1000;

export function PublishProgress({ publishId }: { publishId: string }) {
  const client = useClient();
  const record = useQuery({
    queryKey: ["publish", publishId],
    queryFn: () =>
      ok(
        client.subscription.GET("/api/v1/publishes/{publish_id}/", {
          params: { path: { publish_id: publishId } },
        }),
      ),
    refetchInterval: (query) => (isFinal(query.state.data) ? false : POLL_MS),
  });
  return (
    <section className="card stack" aria-labelledby="progress-title">
      <h2 id="progress-title">Publish {publishId}</h2>
      <Loaded query={record}>
        {(r) => {
          const done = isFinal(r);
          return (
            <>
              <label htmlFor="publish-progress">
                {r.recorded} of {target(r)} recipients reached
              </label>
              <progress id="publish-progress" max={Math.max(target(r), 1)} value={r.recorded} />
              <p role="status" className="status">
                {done ? "Done" : allReached(r) ? "All sent; waiting for delivery reports…" : "Sending…"}
              </p>
              <ul aria-label="Messages by status">
                {Object.entries(r.counts).map(([status, n]) => (
                  <li key={status}>
                    <span className={`status status-${status}`}>{status}</span>: {n}
                  </li>
                ))}
              </ul>
              {Object.keys(r.failures).length > 0 && (
                <ul aria-label="Failures">
                  {Object.entries(r.failures).map(([reason, n]) => (
                    <li key={reason}>
                      {reason}: {n}
                    </li>
                  ))}
                </ul>
              )}
            </>
          );
        }}
      </Loaded>
    </section>
  );
}
