import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import { catalog, type MessageName, type Payload } from "./catalog.ts";
import { type HookData, type HookEventName, hookEvents, isHookEventName } from "./hook-events.ts";

/**
 * An Ajv with the formats fastify uses. JSON (message payloads, request bodies) is validated as sent:
 * `coerce` is only for query strings and path parameters, whose values all arrive as strings.
 */
export function createAjv({ coerce = false } = {}): Ajv {
  return addFormats.default(
    new Ajv({
      coerceTypes: coerce ? "array" : false,
      useDefaults: true,
      removeAdditional: false,
      allErrors: true,
      strict: false,
    }),
  );
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
