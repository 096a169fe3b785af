import { createHash, randomInt, randomUUID, timingSafeEqual } from "node:crypto";
import { enqueue } from "@tidings/amqp";
import { type ConfirmVerifyBody, toSeedTime, type VerifyBody } from "@tidings/contracts";
import type { Db } from "../db.ts";
import {
  addressNotOnIdentity,
  identityNotFound,
  tooManyAttempts,
  tooManyCodes,
  verificationExpired,
  verificationInvalid,
} from "../errors.ts";
import { type Details, hasAddress, normaliseAddress, withFlags } from "./addresses.ts";
import { type Actor, lockIdentity, updateDetails } from "./identities.ts";

export interface VerificationSettings {
  ttlSeconds: number;
  maxAttempts: number;
  maxCodesPerHour: number;
  defaultCountry?: string;
}

/** Codes are stored as SHA-256 of the row id (a per-code salt) and the code; never the code itself. */
const digest = (id: string, code: string) => createHash("sha256").update(`${id}:${code}`).digest("hex");

function requireOnIdentity(details: Details, type: string, address: string): void {
  if (!hasAddress(details, type, address)) {
    throw addressNotOnIdentity(`The identity has no such ${type} address.`);
  }
}

/**
 * The verification codes of identities' addresses, with these settings. An address is taken as
 * `normaliseAddress` gives it (with the default country), or as given when it cannot normalise it.
 */
export function verificationCodes(db: Db, settings: VerificationSettings) {
  const addressOf = (input: { address_type: string; address: string }) =>
    normaliseAddress(input.address_type, input.address, settings.defaultCountry) ?? input.address;
  return {
    /**
     * Issues a short-lived code for one of the identity's addresses and asks the Message Sender to send it
     * (`outbound.send` through the outbox, same transaction). An earlier unconfirmed code stops working.
     */
    async issue(identityId: string, input: VerifyBody, actor: Actor): Promise<{ expires_at: string }> {
      const address = addressOf(input);
      return db.$transaction(async (tx) => {
        const identity = await lockIdentity(tx, identityId);
        if (!identity) {
          throw identityNotFound(identityId);
        }
        requireOnIdentity(identity.details as Details, input.address_type, address);
        const target = { identityId, addressType: input.address_type, address };
        const recent = await tx.verificationCode.count({
          where: { ...target, createdAt: { gt: new Date(Date.now() - 3600_000) } },
        });
        if (recent >= settings.maxCodesPerHour) {
          throw tooManyCodes();
        }
        const now = new Date();
        await tx.verificationCode.updateMany({
          where: { ...target, confirmedAt: null, expiresAt: { gt: now } },
          data: { expiresAt: now },
        });
        const id = randomUUID();
        const code = String(randomInt(0, 1_000_000)).padStart(6, "0");
        const expiresAt = new Date(now.getTime() + settings.ttlSeconds * 1000);
        await tx.verificationCode.create({ data: { id, ...target, codeHash: digest(id, code), expiresAt } });
        await enqueue(tx, {
          name: "outbound.send",
          payload: {
            id: randomUUID(),
            to_addr: address,
            to_identity: identityId,
            content: `Your verification code is ${code}. It expires in ${Math.round(settings.ttlSeconds / 60)} minutes.`,
            metadata: { purpose: "verification", verification_id: id, address_type: input.address_type },
            // A code jumps the bulk backlog and quiet hours, and is never delivered after it stopped working.
            priority: "high",
            expires_at: expiresAt.toISOString(),
            // Masked in message-sender's answers, and not kept there once sent.
            sensitive: true,
          },
          correlationId: actor.correlationId,
        });
        return { expires_at: toSeedTime(expiresAt) };
      });
    },

    /**
     * Checks a code. Every check counts as an attempt (committed even when the code is wrong); after
     * `maxAttempts` the code answers 429. A right code marks the address `verified: true`.
     */
    async confirm(identityId: string, input: ConfirmVerifyBody, actor: Actor): Promise<{ verified: true }> {
      const address = addressOf(input);
      if (!(await db.identity.findUnique({ where: { id: identityId }, select: { id: true } }))) {
        throw identityNotFound(identityId);
      }
      const latest = await db.verificationCode.findFirst({
        where: { identityId, addressType: input.address_type, address, confirmedAt: null },
        orderBy: { createdAt: "desc" },
      });
      if (!latest) {
        throw verificationInvalid();
      }
      if (latest.expiresAt.getTime() <= Date.now()) {
        throw verificationExpired();
      }
      const counted = await db.verificationCode.updateMany({
        where: { id: latest.id, attempts: { lt: settings.maxAttempts } },
        data: { attempts: { increment: 1 } },
      });
      if (counted.count === 0) {
        throw tooManyAttempts();
      }
      const expected = Buffer.from(latest.codeHash, "hex");
      const given = Buffer.from(digest(latest.id, input.code.trim()), "hex");
      if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
        throw verificationInvalid();
      }
      await db.$transaction(async (tx) => {
        const used = await tx.verificationCode.updateMany({
          where: { id: latest.id, confirmedAt: null },
          data: { confirmedAt: new Date() },
        });
        if (used.count === 0) {
          throw verificationInvalid();
        }
        const identity = await lockIdentity(tx, identityId);
        if (!identity) {
          throw identityNotFound(identityId);
        }
        const before = identity.details as Details;
        requireOnIdentity(before, input.address_type, address);
        await updateDetails(
          tx,
          identityId,
          withFlags(before, [{ type: input.address_type, address }], { verified: true }),
          actor,
        );
      });
      return { verified: true };
    },
  };
}
