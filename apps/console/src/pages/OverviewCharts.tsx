/**
 * The overview's charts (Recharts, loaded on their own as a separate chunk). Each is drawn for the eye only
 * (hidden from screen readers); the same numbers are in the table that follows it.
 */
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { Summary } from "./overview-data.ts";

const COLOURS = { sent: "#0b5cad", delivered: "#1a7f37", failed: "#a4161a" };
/** Distinct colours for the channels' stacks (cycled when there are more channels). */
const CHANNEL_COLOURS = ["#0b5cad", "#7a4d00", "#6f42c1", "#1a7f37", "#a4161a", "#0a7e8c", "#555d66"];
const shortDay = (date: string) => date.slice(5);

function Frame({ children }: { children: React.ReactElement }) {
  return (
    <div className="chart" aria-hidden="true">
      <ResponsiveContainer width="100%" height={240}>
        {children}
      </ResponsiveContainer>
    </div>
  );
}

/** Sent, delivered and failed per day. */
export function DailyChart({ summary }: { summary: Summary }) {
  return (
    <Frame>
      <BarChart data={summary.days} accessibilityLayer={false}>
        <CartesianGrid strokeDasharray="3 3" vertical={false} />
        <XAxis dataKey="date" tickFormatter={shortDay} minTickGap={12} />
        <YAxis allowDecimals={false} width={40} />
        <Tooltip />
        <Legend />
        {(["sent", "delivered", "failed"] as const).map((key) => (
          <Bar key={key} dataKey={key} name={key} fill={COLOURS[key]} isAnimationActive={false} />
        ))}
      </BarChart>
    </Frame>
  );
}

/** Sent per day, stacked by channel. */
export function ChannelChart({ summary }: { summary: Summary }) {
  return (
    <Frame>
      <BarChart data={summary.daysByChannel} accessibilityLayer={false}>
        <CartesianGrid strokeDasharray="3 3" vertical={false} />
        <XAxis dataKey="date" tickFormatter={shortDay} minTickGap={12} />
        <YAxis allowDecimals={false} width={40} />
        <Tooltip />
        <Legend />
        {summary.channels.map(({ channel }, i) => (
          <Bar
            key={channel}
            dataKey={channel}
            stackId="channels"
            fill={CHANNEL_COLOURS[i % CHANNEL_COLOURS.length]}
            isAnimationActive={false}
          />
        ))}
      </BarChart>
    </Frame>
  );
}
