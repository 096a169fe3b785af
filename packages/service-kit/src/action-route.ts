/**
 * A POST that does one thing and answers a fixed success status (Seed's action endpoints: a send, a requeue, a
 * hook receiver). Fastify validates params and body against the schemas, so the request's are their `Static`; the
 * cast below only says so, as the type provider cannot see through generics.
 */
import type { FastifyRequest } from "fastify";
import type { Static, TSchema } from "typebox";
import { type Api, errorResponses } from "./routes.ts";

export interface ActionRoute<Params extends TSchema, Body extends TSchema, Answer extends TSchema> {
  tags: string[];
  summary: string;
  description: string;
  params?: Params;
  body?: Body;
  /** The success status, answered with `run`'s result as `answer`. */
  status: 200 | 201 | 202;
  answer: Answer;
  /** E.g. a `422: routeError(...)` besides the usual errors. */
  responses?: Record<number, TSchema>;
  run(request: FastifyRequest<{ Params: Static<Params>; Body: Static<Body> }>): Promise<Static<Answer>>;
  /** The `Location` header of the answer (e.g. what the action created), when it has one. */
  location?(answer: Static<Answer>): string;
}

/** Registers a POST of `path` answering `route.status` with what `route.run` does. */
export function actionRoute<Params extends TSchema, Body extends TSchema, Answer extends TSchema>(
  app: Api,
  path: string,
  route: ActionRoute<Params, Body, Answer>,
): void {
  const { tags, summary, description, params, body, status, answer, responses } = route;
  app.post(
    path,
    {
      schema: {
        tags,
        summary,
        description,
        ...(params ? { params } : {}),
        ...(body ? { body } : {}),
        response: { [status]: answer, ...errorResponses, ...responses },
      },
    },
    async (request, reply) => {
      const answered = await route.run(request as never);
      if (route.location) {
        reply.header("location", route.location(answered));
      }
      // The success status is a computed key of the response schema, which the type provider cannot see.
      return reply.code(status as never).send(answered);
    },
  );
}
