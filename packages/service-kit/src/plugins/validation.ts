import { createAjv } from "@tidings/contracts";
import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import { registerJsonParser } from "../body.ts";
import { compileParams } from "../params.ts";
import { compileQuery } from "../query.ts";
import { refuseUnstorableText } from "../text.ts";

/**
 * The JSON body parser (depth limit; an empty JSON body is no body), Ajv validation and the refusal of text
 * Postgres cannot store. Bodies are JSON and validated as sent: coercing them would turn a null into "" or a 0
 * into null (`anyOf [T, null]`). Query strings and path parameters are strings and are coerced (see
 * `compileQuery` and `compileParams`).
 */
export const validationPlugin = fp(
  async (app: FastifyInstance) => {
    registerJsonParser(app);
    const bodyAjv = createAjv();
    const textAjv = createAjv({ coerce: true });
    app.setValidatorCompiler(({ schema, httpPart, method, url }) =>
      httpPart === "body"
        ? bodyAjv.compile(schema)
        : httpPart === "querystring"
          ? compileQuery(textAjv, schema)
          : httpPart === "params"
            ? compileParams(textAjv, schema, method, url)
            : textAjv.compile(schema),
    );
    app.addHook("preValidation", refuseUnstorableText);
  },
  { name: "tidings-validation" },
);
