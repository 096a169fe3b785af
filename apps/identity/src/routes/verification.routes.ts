import {
  ConfirmVerifyBody,
  ErrorResponse,
  IdParams,
  VerificationConfirmed,
  VerificationIssued,
  VerifyBody,
} from "@tidings/contracts";
import { type Api, errorResponses } from "@tidings/service-kit";
import { confirmVerification, issueVerification } from "../services/verification.ts";
import { actorOf, type RouteDeps } from "./deps.ts";

export function verificationRoutes(app: Api, { db, config }: RouteDeps): void {
  const settings = {
    ttlSeconds: config.VERIFICATION_CODE_TTL_SECONDS,
    maxAttempts: config.VERIFICATION_MAX_ATTEMPTS,
    maxCodesPerHour: config.VERIFICATION_MAX_CODES_PER_HOUR,
    defaultCountry: config.DEFAULT_COUNTRY,
  };

  app.post(
    "/api/v1/identities/:id/verify/",
    {
      schema: {
        tags: ["verification"],
        summary: "Send a short-lived verification code to one of the identity's addresses",
        params: IdParams,
        body: VerifyBody,
        response: { 202: VerificationIssued, ...errorResponses, 429: ErrorResponse },
      },
    },
    async (request, reply) =>
      reply
        .code(202)
        .send(await issueVerification(db, request.params.id, request.body, settings, actorOf(request))),
  );

  app.post(
    "/api/v1/identities/:id/verify/confirm/",
    {
      schema: {
        tags: ["verification"],
        summary: "Check a verification code; a right one marks the address verified",
        params: IdParams,
        body: ConfirmVerifyBody,
        response: { 200: VerificationConfirmed, ...errorResponses, 429: ErrorResponse },
      },
    },
    async (request) => confirmVerification(db, request.params.id, request.body, settings, actorOf(request)),
  );
}
