import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import { ApiError, RetryLaterError } from "../errors.ts";

interface ValidationIssue {
  instancePath: string;
  keyword: string;
  message?: string;
  params?: Record<string, unknown>;
}

/**
 * Ajv errors as `{field, message}`, one per field, the field a dotted path (`body.details.addresses`).
 * The branches of a union are merged ("must be integer or null") instead of listed one by one.
 */
function validationDetails(err: FastifyError): { field: string; message: string }[] {
  const context = err.validationContext ?? "body";
  const byField = new Map<string, string[]>();
  for (const issue of (err.validation ?? []) as ValidationIssue[]) {
    const path = issue.instancePath.split("/").filter(Boolean);
    // A missing or an unexpected property is reported on its parent: name the property itself.
    const named = issue.params?.missingProperty ?? issue.params?.additionalProperty;
    if (typeof named === "string") {
      path.push(named);
    }
    const field = [context, ...path].join(".");
    const messages = byField.get(field) ?? [];
    if (issue.keyword !== "anyOf" || messages.length === 0) {
      messages.push(issue.message ?? "is invalid");
    }
    byField.set(field, messages);
  }
  return [...byField].map(([field, messages]) => {
    const unique = [...new Set(messages)];
    const types = unique.every((m) => m.startsWith("must be "));
    return {
      field,
      message:
        types && unique.length > 1
          ? `must be ${unique.map((m) => m.slice(8)).join(" or ")}`
          : unique.join("; "),
    };
  });
}

/** Answers `err` in the one error shape (a 500 for anything that is no ApiError, validation or client error). */
export function sendError(err: FastifyError | ApiError, request: FastifyRequest, reply: FastifyReply) {
  let status = err.statusCode ?? 500;
  let code: string;
  let message = err.message;
  let details: unknown;
  if (err instanceof ApiError) {
    code = err.code;
    details = err.details;
    if (err instanceof RetryLaterError) {
      reply.header("retry-after", String(err.retryAfterSeconds));
    }
  } else if ((err as FastifyError).validation) {
    status = 400;
    code = "VALIDATION_FAILED";
    details = validationDetails(err as FastifyError);
    message = "The request is invalid.";
  } else if (err.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
    code = "BODY_TOO_LARGE";
  } else if (status < 500) {
    code = /^FST_ERR_CTP_/.test(err.code ?? "") ? "INVALID_BODY" : (err.code ?? "BAD_REQUEST");
  } else {
    request.log.error({ err }, "unhandled error");
    status = 500;
    code = "INTERNAL_ERROR";
    message = "Internal Server Error";
  }
  const error = { code, message, ...(details === undefined ? {} : { details }), requestId: request.id };
  // Seed's (Django REST framework's) 404 body beside ours: its Python client reads only `detail` to tell a
  // missing record (`get_identity` returns None) from an error.
  return reply.code(status).send(status === 404 ? { error, detail: "Not found." } : { error });
}

/** One error shape for every error and unknown route: `{error: {code, message, details?, requestId}}`. */
export const errorHandlerPlugin = fp(
  async (app) => {
    app.setErrorHandler((err: FastifyError | ApiError, request, reply) => sendError(err, request, reply));
    app.setNotFoundHandler((request, reply) =>
      sendError(
        new ApiError(404, "NOT_FOUND", `No route ${request.method} ${request.url.split("?")[0]}`),
        request,
        reply,
      ),
    );
  },
  { name: "tidings-error-handler" },
);
