import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import { catalog, type MessageName, type Payload } from "./catalog.ts";

/** The same engine and formats as fastify's default Ajv compiler. */
export const ajv = addFormats.default(
  new Ajv({ coerceTypes: false, useDefaults: true, removeAdditional: false, allErrors: true, strict: false }),
);

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
