/**
 * Operations' channels (message-sender's channel admin): each channel's health today (its messages delivered,
 * failed and still on their way), its limits and its sending window.
 */
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { ok } from "../api.ts";
import { Loaded, Table, useApi, useClient } from "../ui.tsx";
import { ChannelLimits } from "./ChannelLimits.tsx";
import { REFRESH_MS } from "./Overview.tsx";

interface Today {
  delivered: number;
  failed: number;
  waiting: number;
}

const WAITING = new Set(["queued", "submitted"]);

/** A channel's health from today's outcomes: failing when failures outnumber deliveries. */
function health({ delivered, failed }: Today): { text: string; className?: string } {
  if (failed > 0 && failed >= delivered) {
    return { text: "failing", className: "bad" };
  }
  if (failed > 0) {
    return { text: "some failures", className: "warning" };
  }
  return delivered > 0
    ? { text: "delivering", className: "status-delivered" }
    : { text: "no deliveries today" };
}

const limit = (n: number | null, unit: string) => (n ? `${n} ${unit}` : "none");

export function Channels() {
  const client = useClient();
  const [editing, setEditing] = useState<string | null>(null);
  const channels = useApi(["channels"], (c) =>
    c.messageSender.GET("/api/v1/channel/", { params: { query: { limit: 1000 } } }),
  );
  const today = useQuery({
    queryKey: ["channel-status-counts", "today"],
    refetchInterval: REFRESH_MS,
    queryFn: async () => {
      const day = new Date().toISOString().slice(0, 10);
      const rows = await ok(
        client.messageSender.GET("/api/v1/outbound/channel_status_counts/", {
          params: { query: { from: day, to: day } },
        }),
      );
      const byChannel = new Map<string, Today>();
      for (const row of rows) {
        const t = byChannel.get(row.channel) ?? { delivered: 0, failed: 0, waiting: 0 };
        byChannel.set(row.channel, t);
        if (row.status === "delivered") {
          t.delivered += row.count;
        } else if (row.status === "failed" || row.status === "expired") {
          t.failed += row.count;
        } else if (WAITING.has(row.status)) {
          t.waiting += row.count;
        }
      }
      return byChannel;
    },
  });
  return (
    <section aria-labelledby="ops-channels" className="card">
      <h2 id="ops-channels">Channels</h2>
      <Loaded query={channels}>
        {(list) => (
          <>
            <Table
              caption="Channels: health today (UTC), limits and sending windows"
              head={[
                "Channel",
                "Type",
                "Health today",
                "Rate",
                "Concurrency",
                "Daily cap",
                "Sending window",
                "Fallback",
              ]}
            >
              {list.results.map((c) => {
                const t = today.data?.get(c.channel_id) ?? { delivered: 0, failed: 0, waiting: 0 };
                const h = health(t);
                const w = c.sending_window;
                return (
                  <tr key={c.channel_id}>
                    <td>
                      {c.channel_id}
                      {c.default && (
                        <>
                          {" "}
                          <span className="tag">default</span>
                        </>
                      )}
                    </td>
                    <td>{c.channel_type}</td>
                    <td>
                      <span className={h.className}>{h.text}</span>: {t.delivered} delivered, {t.failed}{" "}
                      failed, {t.waiting} on their way
                    </td>
                    <td>{limit(c.rate_limit, "/ s")}</td>
                    <td>{limit(c.concurrency_limit, "at once")}</td>
                    <td>{c.daily_cap === null ? "service default" : limit(c.daily_cap, "per person")}</td>
                    <td>
                      {w ? `${w.start}–${w.end} recipient's time (else ${w.timezone ?? "UTC"})` : "any time"}
                    </td>
                    <td>{c.fallback ?? "—"}</td>
                    <td>
                      <button
                        type="button"
                        className="secondary"
                        aria-label={`Edit limits of ${c.channel_id}`}
                        aria-expanded={editing === c.channel_id}
                        onClick={() => setEditing(editing === c.channel_id ? null : c.channel_id)}
                      >
                        Edit limits
                      </button>
                    </td>
                  </tr>
                );
              })}
            </Table>
            {list.results
              .filter((c) => c.channel_id === editing)
              .map((c) => (
                <ChannelLimits key={c.channel_id} channel={c} onDone={() => setEditing(null)} />
              ))}
          </>
        )}
      </Loaded>
    </section>
  );
}
