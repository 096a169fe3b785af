// What the voice simulators (Twilio's and Vonage's) share.

/**
 * How a simulated call ends, as its final status callback (`CallStatus`) says: answered and played to the end
 * (`completed`: its played marker, then its end), or not answered (`no-answer`, `busy`, `failed`, `canceled`);
 * `none`: played to the end, it never reports an end; `hung-up`: answered, the person hangs up during the first
 * audio (it ends `completed`, without the played marker); `late-marker`: played to the end, its end reported
 * before its played marker.
 */
export type CallOutcome =
  | "completed"
  | "no-answer"
  | "busy"
  | "failed"
  | "canceled"
  | "none"
  | "hung-up"
  | "late-marker";

/** A voice simulator as a test drives it. */
export interface VoiceSimulator<Call, EndStatus> {
  url: string;
  /** Every call created, in order. */
  calls: Call[];
  /** How the next calls to `to` end, one outcome each, in order (then `completed`). */
  script(to: string, outcomes: CallOutcome[]): void;
  /** Ends a call that is still going (one scripted `none`) with this status, signed as the provider would. */
  end(callId: string, status: EndStatus): Promise<number>;
  close(): Promise<void>;
}

/**
 * A simulator's `end`: finishes the call `id` names (as `idOf` reads a call's id) with `finish`; rejects when
 * there is none.
 */
export const endCall =
  <Call, EndStatus>(
    calls: Call[],
    idOf: (call: Call) => string,
    finish: (call: Call, status: EndStatus) => Promise<number>,
  ) =>
  async (id: string, status: EndStatus): Promise<number> => {
    const call = calls.find((c) => idOf(c) === id);
    if (!call) {
      throw new Error(`no call ${id}`);
    }
    return finish(call, status);
  };
