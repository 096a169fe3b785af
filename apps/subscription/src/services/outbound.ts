import type { OutboundSend, SendingWindow } from "@tidings/contracts";

export interface OutboundMessage {
  text: string | null;
  metadata: Record<string, unknown>;
  /** The binary content's public URL. */
  binaryUrl: string | null;
}

/**
 * The `outbound.send` for one message, as Seed built it: the message's metadata is copied; a text set
 * sends the text (after `prepend`, when given) and a message with a file also sends `metadata.image_url`;
 * an audio set sends `metadata.voice_speech_url`, always a list (`[prepend, file]` when prepending).
 * Scheduled sends take the `bulk` lane, so a large tick never delays codes or one-off sends; an operator's
 * resend goes in the `normal` lane.
 */
export function outboundFor(input: {
  id: string;
  identity: string;
  contentType: string;
  channel: string | null;
  message: OutboundMessage;
  prepend?: string;
  resend?: boolean;
  /** The message set's quiet hours: the message sender defers the send until the window opens. */
  sendingWindow?: SendingWindow | null;
}): OutboundSend {
  const { message, prepend } = input;
  const metadata: Record<string, unknown> = { ...message.metadata };
  let content = message.text;
  if (input.contentType === "audio") {
    if (message.binaryUrl) {
      metadata.voice_speech_url = prepend ? [prepend, message.binaryUrl] : [message.binaryUrl];
    }
  } else {
    content = prepend ? `${prepend}\n${message.text ?? ""}` : (message.text ?? "");
    if (message.binaryUrl) {
      metadata.image_url = message.binaryUrl;
    }
  }
  return {
    id: input.id,
    to_identity: input.identity,
    content,
    channel: input.channel,
    metadata,
    priority: input.resend ? "normal" : "bulk",
    ...(input.sendingWindow ? { sending_window: input.sendingWindow } : {}),
    ...(input.resend ? { resend: true } : {}),
  };
}
