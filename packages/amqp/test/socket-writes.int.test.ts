/**
 * amqplib as the platform installs it (patches/amqplib@0.10.9.patch): the frames its channels queue in one turn go
 * to the broker's socket in one write. Unpatched, each frame (a publish, an ack) is a write of its own: a system
 * call, and a TCP segment the broker reads (RabbitMQ's CPU a delivered message in `pnpm bench pipeline`: 0.42 ms
 * unpatched, 0.37-0.38 patched). This fails on an amqplib installed without the patch.
 */
import { setImmediate as nextTurn } from "node:timers/promises";
import { AMQP_URL } from "@tidings/testing";
import amqp from "amqplib";
import { describe, expect, it, vi } from "vitest";

interface Socket {
  _write(...args: unknown[]): void;
  _writev(...args: unknown[]): void;
}

describe("amqplib's writes", () => {
  it("sends the frames of one turn, from every channel, in one write", async () => {
    const model = await amqp.connect(AMQP_URL);
    try {
      const channels = [await model.createChannel(), await model.createChannel()];
      await nextTurn();
      const socket = (model as unknown as { connection: { stream: Socket } }).connection.stream;
      const single = vi.spyOn(socket, "_write");
      const vector = vi.spyOn(socket, "_writev");
      // 20 publishes and 20 more on another channel, in one turn (unroutable: the broker drops them).
      for (let i = 0; i < 20; i++) {
        for (const channel of channels) {
          channel.publish("", `tidings-socket-writes-${i}`, Buffer.from("x"));
        }
      }
      await nextTurn();
      await nextTurn();
      expect(single).not.toHaveBeenCalled();
      expect(vector).toHaveBeenCalledTimes(1);
      expect(vector.mock.calls[0]?.[0]).toHaveLength(40);
    } finally {
      await model.close();
    }
  });
});
