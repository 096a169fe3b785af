import Type, { type Static } from "typebox";

/** The built-in log channel: records the send and reports it delivered. No configuration. */
export const LogChannelConfig = Type.Object({}, { additionalProperties: false });
export type LogChannelConfig = Static<typeof LogChannelConfig>;
