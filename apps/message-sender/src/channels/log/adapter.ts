import { randomUUID } from "node:crypto";
import { appendFile } from "node:fs/promises";
import type { Channel, Logger, OutboundToSend, SendResult } from "../../outbound/channel.ts";

/**
 * The built-in channel: records the send in the log and reports it delivered at once, so the platform runs
 * end to end with no provider. It logs ids only, never the address or the content. With a `sinkFile`
 * (LOG_CHANNEL_FILE, for development and demos) it also appends each message, address and content
 * included, as one JSON line: what a real provider would have been asked to send.
 */
export class LogChannel implements Channel {
  readonly timeoutMs = 0; // it only writes a log line
  constructor(
    private readonly logger: Logger,
    private readonly sinkFile?: string,
  ) {}

  async send(outbound: OutboundToSend, address: string): Promise<SendResult> {
    const providerId = `log-${randomUUID()}`;
    if (this.sinkFile) {
      const line = {
        id: outbound.id,
        provider_id: providerId,
        to_addr: address,
        content: outbound.content,
        at: new Date().toISOString(),
      };
      await appendFile(this.sinkFile, `${JSON.stringify(line)}\n`);
    }
    this.logger.info(
      { outboundId: outbound.id, providerId, contentLength: outbound.content?.length ?? 0 },
      "outbound sent through the log channel",
    );
    return { providerId, delivered: true };
  }
}
