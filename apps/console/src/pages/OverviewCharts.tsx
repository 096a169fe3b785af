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

/** Bars per day over the range, one series per key (stacked when `stack` is given). */
function DayBars({
  data,
  series,
  stack,
}: {
  data: object[];
  series: { key: string; colour: string }[];
  stack?: string;
}) {
  return (
    <div className="chart" aria-hidden="true">
      <ResponsiveContainer width="100%" height={240}>
        <BarChart data={data} accessibilityLayer={false}>
          <CartesianGrid strokeDasharray="3 3" vertical={false} />
          <XAxis dataKey="date" tickFormatter={shortDay} minTickGap={12} />
          <YAxis allowDecimals={false} width={40} />
          <Tooltip />
          <Legend />
          {series.map(({ key, colour }) => (
            <Bar key={key} dataKey={key} stackId={stack} fill={colour} isAnimationActive={false} />
          ))}
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}

/** Sent, delivered and failed per day. */
export function DailyChart({ summary }: { summary: Summary }) {
  const series = (["sent", "delivered", "failed"] as const).map((key) => ({ key, colour: COLOURS[key] }));
  return <DayBars data={summary.days} series={series} />;
}

/** Sent per day, stacked by channel. */
export function ChannelChart({ summary }: { summary: Summary }) {
  const series = summary.channels.map(({ channel }, i) => ({
    key: channel,
    colour: CHANNEL_COLOURS[i % CHANNEL_COLOURS.length] as string,
  }));
  return <DayBars data={summary.daysByChannel} series={series} stack="channels" />;
}
