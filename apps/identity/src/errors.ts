/** The identity service's API errors: services throw them, the shared error handler renders them. */
import { ApiError, badRequest, notFound } from "@tidings/service-kit";

export const identityNotFound = (id: string) => notFound("IDENTITY_NOT_FOUND", `Identity ${id} not found`);

/** A body field names an identity that does not exist. */
export const referenceNotFound = (field: string, id: string) =>
  badRequest("IDENTITY_REFERENCE_NOT_FOUND", `${field}: identity ${id} does not exist`, [
    { field: `body.${field}`, message: "no such identity" },
  ]);

export const invalidAddress = (message: string, issues: { field: string; message: string }[]) =>
  badRequest("IDENTITY_INVALID_ADDRESS", message, issues);

export const addressNotOnIdentity = (message: string) =>
  badRequest("IDENTITY_ADDRESS_NOT_ON_IDENTITY", message, [
    { field: "body.address", message: "not an address of this identity" },
  ]);

export const addressRequired = () =>
  badRequest("IDENTITY_ADDRESS_REQUIRED", "Either identity or address_type and address must be given.", [
    { field: "body.address", message: "required when identity is not given" },
  ]);

/** No identity has the address (`message` differs between the opt-out and the Seed receiver). */
export const addressNotFound = (message: string) => badRequest("IDENTITY_ADDRESS_NOT_FOUND", message);

export const addressAmbiguous = () =>
  badRequest("IDENTITY_ADDRESS_AMBIGUOUS", "There are multiple identities with this address.");

export const unknownFilter = (names: string[]) =>
  badRequest(
    "IDENTITY_UNKNOWN_FILTER",
    `Unknown search filter: ${names.join(", ")}`,
    names.map((p) => ({ field: `querystring.${p}`, message: "not a filter this search knows" })),
  );

/**
 * A search filter ends in a Django lookup the search does not do (`__icontains`, `__in`, `__gt`, …): refused rather
 * than searched as a details key of that name (Seed passed it to Django's ORM).
 */
export const unsupportedLookup = (names: string[]) =>
  badRequest(
    "IDENTITY_UNSUPPORTED_LOOKUP",
    `Unsupported search lookup: ${names.join(", ")} (details filters take a value, or __has_key=<key>)`,
    names.map((p) => ({
      field: `querystring.${p}`,
      message: `the lookup __${p.split("__").at(-1)} is not supported: use a value, __exact or __has_key`,
    })),
  );

export const emptyHasKey = (names: string[]) =>
  badRequest(
    "IDENTITY_INVALID_FILTER",
    `${names.join(", ")} must name a key`,
    names.map((p) => ({ field: `querystring.${p}`, message: "must name a key" })),
  );

export const invalidIncludeInactive = () =>
  badRequest("IDENTITY_INVALID_FILTER", "include_inactive must be true or false", [
    { field: "querystring.include_inactive", message: "must be true or false" },
  ]);

/** A query parameter the schema could not check (search queries are free-form). */
export const invalidInteger = (name: string, min: number, max: number) =>
  badRequest("VALIDATION_FAILED", "The request is invalid.", [
    { field: `querystring.${name}`, message: `must be an integer from ${min} to ${max}` },
  ]);

export const dataRequired = () => badRequest("IDENTITY_DATA_REQUIRED", '"data" must be supplied');

export const dataIncomplete = () =>
  badRequest("IDENTITY_DATA_INCOMPLETE", '"data" must contain either "identity" or "to_addr" keys');

export const tooManyCodes = () =>
  new ApiError(
    429,
    "IDENTITY_TOO_MANY_CODES",
    "Too many verification codes for this address; try again later.",
  );

export const tooManyAttempts = () =>
  new ApiError(429, "IDENTITY_TOO_MANY_ATTEMPTS", "Too many attempts for this code; ask for a new one.");

export const verificationInvalid = () =>
  badRequest("IDENTITY_VERIFICATION_INVALID", "The code is not valid.");

export const verificationExpired = () =>
  badRequest("IDENTITY_VERIFICATION_EXPIRED", "The code has expired; ask for a new one.");
