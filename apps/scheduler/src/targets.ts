import type { OutboxMessage } from "@tidings/amqp";
import {
  assertPayload,
  catalog,
  deterministicId,
  InvalidPayloadError,
  isMessageName,
  type MessageName,
  type ScheduleFired,
} from "@tidings/contracts";
import type { FieldProblem } from "@tidings/service-kit";

/**
 * What an AMQP target may publish: commands (work asked of a service: `outbound.send`,
 * `subscription.fan-out`, ...) of the other services. Events state what happened in the service that owns
 * them, so a schedule may not forge one; the scheduler's own `schedule.deliver` is how HTTP targets work.
 * A schedule without `message` publishes the scheduler's own event `schedule.fired`.
 */
export const SCHEDULABLE_MESSAGES = (Object.keys(catalog) as MessageName[]).filter(
  (name) => catalog[name].kind === "command" && catalog[name].exchange !== "scheduler",
);

export interface SlotTokens {
  slot: string;
  schedule_id: string;
  run_id: string;
}

const TOKEN = /\{\{(slot|schedule_id|run_id)\}\}/g;

/** The payload with `{{slot}}`, `{{schedule_id}}` and `{{run_id}}` replaced in every string value. */
export function substituteTokens(value: unknown, tokens: SlotTokens): unknown {
  if (typeof value === "string") {
    return value.replace(TOKEN, (_, name: keyof SlotTokens) => tokens[name]);
  }
  if (Array.isArray(value)) {
    return value.map((v) => substituteTokens(v, tokens));
  }
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substituteTokens(v, tokens)]));
  }
  return value;
}

/** Whether `message` names a catalogued command: work asked of a service, which only admins may schedule. */
export const isCommand = (message: string | null): boolean =>
  message !== null && isMessageName(message) && catalog[message].kind === "command";

/**
 * The field of a command naming the schedule that published it (`outbound.send`'s `created_by_schedule`):
 * set on every slot of a command whose schema has it, over whatever the schedule's payload says.
 */
export const SCHEDULE_FIELD = "created_by_schedule";

const carriesSchedule = (name: MessageName) =>
  SCHEDULE_FIELD in ((catalog[name].schema as { properties?: object }).properties ?? {});

/** The payload a slot of `message` publishes: the tokens substituted, and the schedule named when it can be. */
function commandPayload(message: MessageName, payload: unknown, tokens: SlotTokens): unknown {
  const substituted = substituteTokens(payload, tokens);
  return carriesSchedule(message) && substituted !== null && typeof substituted === "object"
    ? { ...substituted, [SCHEDULE_FIELD]: tokens.schedule_id }
    : substituted;
}

export interface AmqpTarget {
  id: string;
  message: string | null;
  payload: ScheduleFired["payload"];
  source_service: string | null;
  source_ref: string | null;
}

/**
 * The message one slot of an AMQP target publishes, with an id derived from (schedule, slot): the same
 * slot can only ever produce the same message, and consumers dedupe on its id.
 */
export function slotMessage(schedule: AmqpTarget, slot: Date, runId: string, manual: boolean): OutboxMessage {
  const iso = slot.toISOString();
  const tokens = { slot: iso, schedule_id: schedule.id, run_id: runId };
  if (schedule.message) {
    const name = schedule.message as MessageName;
    return {
      name,
      messageId: deterministicId("schedule.message", schedule.id, iso),
      payload: commandPayload(name, schedule.payload, tokens) as OutboxMessage["payload"],
    };
  }
  const payload = substituteTokens(schedule.payload, tokens);
  return {
    name: "schedule.fired",
    messageId: deterministicId("schedule.fired", schedule.id, iso),
    payload: {
      schedule_id: schedule.id,
      slot: iso,
      manual,
      source:
        schedule.source_service && schedule.source_ref
          ? { service: schedule.source_service, ref: schedule.source_ref }
          : null,
      payload: payload as ScheduleFired["payload"],
    },
  };
}

/**
 * Problems with a schedule's target: `endpoint` and `message` exclude each other; `message` must be
 * schedulable, and `payload` valid for it once the tokens are substituted with `sample` values (a payload
 * that can never be valid is refused; one that only becomes valid after substitution is accepted).
 */
export function targetProblems(
  target: { endpoint: string | null; message: string | null; payload: unknown },
  sample: SlotTokens,
): FieldProblem[] {
  const { endpoint, message, payload } = target;
  if (message === null) {
    return [];
  }
  if (endpoint !== null) {
    return [
      {
        field: "body.message",
        message: "a schedule has one target: an endpoint (HTTP) or a message (AMQP), not both",
      },
    ];
  }
  if (!isMessageName(message) || !SCHEDULABLE_MESSAGES.includes(message)) {
    return [
      {
        field: "body.message",
        message: `"${message}" is not a message a schedule can publish; one of: ${SCHEDULABLE_MESSAGES.join(", ")}`,
      },
    ];
  }
  try {
    assertPayload(message, commandPayload(message, payload, sample));
    return [];
  } catch (err) {
    if (!(err instanceof InvalidPayloadError)) {
      throw err;
    }
    return err.errors.map((e) => ({
      field: `body.payload${e.instancePath.replaceAll("/", ".")}`,
      message: `payload is not a valid ${message}: ${e.instancePath || "/"} ${e.message ?? "is invalid"}`,
    }));
  }
}
