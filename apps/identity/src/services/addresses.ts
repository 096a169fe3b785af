import type { Identity } from "@tidings/contracts";
import { normaliseAddress } from "@tidings/contracts/addresses";
import { invalidAddress } from "../errors.ts";

export { normaliseAddress };

export type AddressFlags = Record<string, unknown>;
export type AddressMap = Record<string, Record<string, AddressFlags>>;
export type Details = Identity["details"];

export interface AddressIssue {
  field: string;
  message: string;
}

/** Like normaliseAddress, but a bad address is a 400 naming it. */
export function requireAddress(type: string, value: string, field: string, defaultCountry?: string): string {
  const normalised = normaliseAddress(type, value, defaultCountry);
  if (normalised === null) {
    throw invalidAddress(`${field}: not a valid ${type} address`, [
      { field, message: `not a valid ${type} address` },
    ]);
  }
  return normalised;
}

/**
 * `details` with every address normalised; addresses that normalise to the same value have their flags
 * merged. Throws a 400 listing every bad address.
 */
export function normaliseDetails(details: Details, field: string, defaultCountry?: string): Details {
  const addresses = (details.addresses ?? {}) as AddressMap;
  const issues: AddressIssue[] = [];
  const out: AddressMap = {};
  for (const [type, byAddress] of Object.entries(addresses)) {
    const target: Record<string, AddressFlags> = {};
    out[type] = target;
    for (const [address, flags] of Object.entries(byAddress)) {
      const normalised = normaliseAddress(type, address, defaultCountry);
      if (normalised === null) {
        issues.push({
          field: `${field}.addresses.${type}.${address}`,
          message: `not a valid ${type} address`,
        });
        continue;
      }
      target[normalised] = { ...(target[normalised] ?? {}), ...flags };
    }
  }
  if (issues.length > 0) {
    throw invalidAddress(
      `Invalid address: ${issues.map((i) => i.field.split(".").slice(-2).join(" ")).join(", ")}`,
      issues,
    );
  }
  return { ...details, addresses: out };
}

export const addressesOf = (details: Details): AddressMap => (details.addresses ?? {}) as AddressMap;

/**
 * The addresses of one type that can be used: not opted out and not inactive (every one is checked; Seed
 * stopped at the first opted-out address). With `defaultOnly`: those flagged default when there are several,
 * or the only one.
 */
export function usableAddresses(details: Details, type: string, defaultOnly: boolean): string[] {
  const byAddress = addressesOf(details)[type] ?? {};
  const usable = Object.entries(byAddress).filter(([, f]) => f.optedout !== true && f.inactive !== true);
  if (defaultOnly && usable.length > 1) {
    return usable.filter(([, f]) => f.default === true).map(([a]) => a);
  }
  return usable.map(([a]) => a);
}

/** Returns a copy of details with `flags` set on the given addresses. */
export function withFlags(
  details: Details,
  targets: { type: string; address: string }[],
  flags: AddressFlags,
): Details {
  const addresses = structuredClone(addressesOf(details));
  for (const { type, address } of targets) {
    const byAddress = addresses[type];
    const current = byAddress?.[address];
    if (byAddress && current) {
      byAddress[address] = { ...current, ...flags };
    }
  }
  return { ...details, addresses };
}

export const hasAddress = (details: Details, type: string, address: string): boolean =>
  Boolean(addressesOf(details)[type]?.[address]);

/** The JSON containment pattern matching identities holding this address. */
export const addressPattern = (type: string, address: string, flags: AddressFlags = {}) =>
  JSON.stringify({ addresses: { [type]: { [address]: flags } } });

/** Flags only the consent and verification flows may change. */
const PROTECTED_FLAGS = ["optedout", "verified"] as const;

/**
 * For an update (PUT/PATCH `details`): `optedout` and `verified` keep their stored values on the addresses
 * that stay, whatever the client sent, so an update built from a stale read cannot undo an opt-out that
 * happened in between, and an address cannot be marked verified without a code. A new address can
 * arrive opted out but not verified. Change these flags through /optout/, /optin/ and /verify/.
 */
export function keepProtectedFlags(stored: Details, next: Details): Details {
  const before = addressesOf(stored);
  const addresses: AddressMap = {};
  for (const [type, byAddress] of Object.entries(addressesOf(next))) {
    const target: Record<string, AddressFlags> = {};
    addresses[type] = target;
    for (const [address, flags] of Object.entries(byAddress)) {
      const old = before[type]?.[address];
      const merged: AddressFlags = { ...flags };
      for (const flag of PROTECTED_FLAGS) {
        delete merged[flag];
        if (old && old[flag] !== undefined) {
          merged[flag] = old[flag];
        }
      }
      if (!old && flags.optedout === true) {
        merged.optedout = true;
      }
      target[address] = merged;
    }
  }
  return { ...next, addresses };
}
