import { Ajv, type ErrorObject, type FormatDefinition, type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import { catalog, type MessageName, type Payload } from "./catalog.ts";
import { type HookData, type HookEventName, hookEvents, isHookEventName } from "./hook-events.ts";
import { isStorableTime } from "./time.ts";

/**
 * An Ajv with the formats fastify uses. JSON (message payloads, request bodies) is validated as sent:
 * `coerce` is only for query strings and path parameters, whose values all arrive as strings.
 */
export function createAjv({ coerce = false } = {}): Ajv {
  return storableTimes(
    addFormats.default(
      new Ajv({
        coerceTypes: coerce ? "array" : false,
        useDefaults: true,
        removeAdditional: false,
        allErrors: true,
        strict: false,
      }),
    ),
  );
}

/**
 * Narrows the `date` and `date-time` formats to the times Tidings can store and answer with (`isStorableTime`).
 * RFC 3339, and so Ajv, takes year 0000, which Postgres refuses, and times JavaScript cannot read (a leap second,
 * an offset of hours alone): each was a 500 where it reached the database. A time in year 10000 once in UTC would
 * be answered as `+010000-…`. Each is instead the format's error naming its field (`400 VALIDATION_FAILED` over
 * HTTP, a dead letter over AMQP).
 */
function storableTimes(ajv: Ajv): Ajv {
  for (const name of ["date", "date-time"] as const) {
    // ajv-formats' full formats are definitions with a validate function (and a compare, for formatMinimum).
    const format = addFormats.default.get(name) as FormatDefinition<string>;
    const valid = format.validate as (text: string) => boolean;
    ajv.addFormat(name, {
      ...format,
      validate: (text: string) => valid(text) && isStorableTime(new Date(text)),
    });
  }
  return ajv;
}

export const ajv = createAjv();

const compiled = new Map<MessageName, ValidateFunction>();

export function validatorFor<N extends MessageName>(name: N): (value: unknown) => value is Payload<N> {
  let validate = compiled.get(name);
  if (!validate) {
    validate = ajv.compile(catalog[name].schema);
    compiled.set(name, validate);
  }
  const fn = validate;
  return (value: unknown): value is Payload<N> => fn(value) as boolean;
}

export class InvalidPayloadError extends Error {
  constructor(
    readonly messageName: string,
    readonly errors: ErrorObject[],
  ) {
    super(
      `invalid ${messageName} payload: ${errors.map((e) => `${e.instancePath || "/"} ${e.message}`).join("; ")}`,
    );
    this.name = "InvalidPayloadError";
  }
}

/** Returns the payload typed, or throws InvalidPayloadError naming every problem. */
export function assertPayload<N extends MessageName>(name: N, value: unknown): Payload<N> {
  const ok = validatorFor(name)(value);
  if (!ok) {
    throw new InvalidPayloadError(name, compiled.get(name)?.errors ?? []);
  }
  return value;
}

const compiledHooks = new Map<HookEventName, ValidateFunction>();

/**
 * Returns a hook event's data typed, or throws InvalidPayloadError: for an event that is not in the hook
 * catalog (so without a schema) as for data its schema refuses.
 */
export function assertHookData<N extends HookEventName>(name: N, value: unknown): HookData<N> {
  if (!isHookEventName(name)) {
    throw new InvalidPayloadError(name, [
      { instancePath: "", schemaPath: "", keyword: "catalog", params: {}, message: "is not a hook event" },
    ]);
  }
  let validate = compiledHooks.get(name);
  if (!validate) {
    validate = ajv.compile(hookEvents[name].schema);
    compiledHooks.set(name, validate);
  }
  if (!validate(value)) {
    throw new InvalidPayloadError(name, validate.errors ?? []);
  }
  return value as HookData<N>;
}
