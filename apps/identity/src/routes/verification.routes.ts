import {
  ConfirmVerifyBody,
  IdParams,
  VerificationConfirmed,
  VerificationIssued,
  VerifyBody,
} from "@tidings/contracts";
import { type Api, errorResponses, routeError } from "@tidings/service-kit";
import { verificationCodes } from "../services/verification.ts";
import { actorOf, type RouteDeps } from "./deps.ts";

export function verificationRoutes(app: Api, { db, config }: RouteDeps): void {
  const codes = verificationCodes(db, {
    ttlSeconds: config.VERIFICATION_CODE_TTL_SECONDS,
    maxAttempts: config.VERIFICATION_MAX_ATTEMPTS,
    maxCodesPerHour: config.VERIFICATION_MAX_CODES_PER_HOUR,
    defaultCountry: config.DEFAULT_COUNTRY,
  });

  app.post(
    "/api/v1/identities/:id/verify/",
    {
      schema: {
        tags: ["verification"],
        summary: "Send a short-lived verification code to one of the identity's addresses",
        description:
          "`{address_type, address}` (an address of the identity): a 6-digit code is sent to it through message-sender and 202 answers when it expires; an earlier unconfirmed code stops working. 429 IDENTITY_TOO_MANY_CODES past VERIFICATION_MAX_CODES_PER_HOUR.",
        params: IdParams,
        body: VerifyBody,
        response: {
          202: VerificationIssued,
          ...errorResponses,
          429: routeError(
            "IDENTITY_TOO_MANY_CODES: VERIFICATION_MAX_CODES_PER_HOUR codes were sent to the address in the last hour.",
          ),
        },
      },
    },
    async (request, reply) =>
      reply.code(202).send(await codes.issue(request.params.id, request.body, actorOf(request))),
  );

  app.post(
    "/api/v1/identities/:id/verify/confirm/",
    {
      schema: {
        tags: ["verification"],
        summary: "Check a verification code; a right one marks the address verified",
        description:
          "`{address_type, address, code}`: the right code answers `{verified: true}` and marks the address verified; a wrong or expired one is 400 (IDENTITY_VERIFICATION_INVALID, IDENTITY_VERIFICATION_EXPIRED) and counts as an attempt, 429 IDENTITY_TOO_MANY_ATTEMPTS past VERIFICATION_MAX_ATTEMPTS.",
        params: IdParams,
        body: ConfirmVerifyBody,
        response: {
          200: VerificationConfirmed,
          ...errorResponses,
          429: routeError(
            "IDENTITY_TOO_MANY_ATTEMPTS: the code was checked VERIFICATION_MAX_ATTEMPTS times.",
          ),
        },
      },
    },
    async (request) => codes.confirm(request.params.id, request.body, actorOf(request)),
  );
}
