/**
 * A seeded, dependency-free API fuzzer: reads a service's OpenAPI document and builds malformed requests
 * for every operation (wrong types, missing fields, huge strings, bad unicode, wrong content types,
 * malformed JSON, bad auth). The same seed always gives the same cases, so a failure is reproducible.
 */

import { type Operation, PATTERN_CANDIDATES, type Schema, sample, typesOf } from "./openapi.ts";

export interface FuzzCase {
  operation: string;
  kind: "baseline" | "auth" | "raw-body" | "body" | "query" | "path";
  description: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string | Buffer;
}

/** mulberry32: a small seeded PRNG. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const HUGE = "x".repeat(1024 * 1024);
const LONE_SURROGATE = "a\ud800b";
const NUL = "a\u0000b";

/** Values of the wrong type (or shape) for a schema, plus the nasty strings. */
function badValues(schema: Schema | undefined): [string, unknown][] {
  const types = schema ? typesOf(schema) : [];
  const values: [string, unknown][] = [
    ["a 1 MB string", HUGE],
    ["a lone surrogate", LONE_SURROGATE],
    ["a NUL character", NUL],
    ["an object", { nested: { deeper: [1, "2", null] } }],
    ["an array", [1, "two", { three: 3 }]],
    ["a huge number", 1e308],
    ["an integer beyond 32 bits", 2 ** 31],
    ["a negative number", -1],
    ["a float", 1.5],
    ["a boolean", false],
  ];
  if (!types.includes("null")) {
    values.push(["null", null]);
  }
  if (!types.includes("string")) {
    values.push(["a string", "not the right type"]);
  }
  return values;
}

const queryBadValues: [string, string][] = [
  ["a word", "abc"],
  ["a negative number", "-1"],
  ["a number beyond 64 bits", "99999999999999999999999"],
  ["a 1 MB string", "x".repeat(1024 * 1024)],
  ["an encoded NUL", "%00"],
  ["an encoded lone surrogate", "%ED%A0%80"],
  ["an invalid UTF-8 byte", "%FF"],
  ["a malformed percent escape", "%E0%A4%A"],
  ["a repeated parameter", "1&REPEAT=2"],
];

const VERY_DEEP = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;
const TOO_LARGE = JSON.stringify({ a: "x".repeat(6 * 1024 * 1024) });

const pathBadValues: [string, string][] = [
  ["not a uuid", "not-a-uuid"],
  ["a negative number", "-1"],
  ["a number beyond 64 bits", "99999999999999999999999"],
  ["an encoded NUL", "a%00b"],
  ["an encoded lone surrogate", "%ED%A0%80"],
  ["an invalid UTF-8 byte", "%FF"],
  ["an encoded slash", "..%2F..%2Fetc"],
  ["a 10 kB string", "y".repeat(10_000)],
];

const urlOf = (op: Operation, pathOverride: Record<string, string> = {}, query = "") => {
  const values = Object.fromEntries(op.pathParams.map((p) => [p.name, String(sample(p.schema))]));
  const path = op.path.replace(/\{([^}]+)\}/g, (_, p: string) => pathOverride[p] ?? values[p] ?? "x");
  return query ? `${path}?${query}` : path;
};

/** The operation called with a well-formed request (`body` for operations that take one). */
export function baselineCase(op: Operation, auth: Record<string, string>, body: unknown): FuzzCase {
  return {
    operation: `${op.method} ${op.path}`,
    kind: "baseline",
    description: "a well-formed request",
    method: op.method,
    url: urlOf(op),
    headers: op.body ? { ...auth, "content-type": "application/json" } : auth,
    ...(op.body ? { payload: JSON.stringify(body) } : {}),
  };
}

/**
 * The next guess at a body the operation accepts, from the fields a 400 named: an optional field is left
 * out, a required string field tries the next common value. Undefined when there is nothing left to try.
 */
export function repairBody(
  op: Operation,
  body: Record<string, unknown>,
  fields: string[],
  round: number,
): Record<string, unknown> | undefined {
  const next = { ...body };
  let changed = false;
  for (const key of new Set(fields.map((f) => f.split(".")[1]).filter((k): k is string => k !== undefined))) {
    if (!(key in next)) {
      continue;
    }
    if (!op.body?.required?.includes(key)) {
      delete next[key];
      changed = true;
    } else if (typeof next[key] === "string" && round < PATTERN_CANDIDATES.length) {
      next[key] = PATTERN_CANDIDATES[round];
      changed = true;
    }
  }
  return changed ? next : undefined;
}

/**
 * Every malformed request for one operation (the caller samples from them), each a mutation of `body`
 * (best a body the operation accepts, so a mutation of one field reaches the code behind validation).
 */
export function casesFor(op: Operation, auth: Record<string, string>, baseline?: unknown): FuzzCase[] {
  const name = `${op.method} ${op.path}`;
  const urlWith = (pathOverride: Record<string, string> = {}, query = "") => urlOf(op, pathOverride, query);
  const body = op.body ? ((baseline ?? sample(op.body)) as Record<string, unknown>) : undefined;
  const json = { ...auth, "content-type": "application/json" };
  const withBody = (payload: unknown): { headers: Record<string, string>; payload?: string } =>
    body === undefined ? { headers: auth } : { headers: json, payload: JSON.stringify(payload) };
  const make = (
    kind: FuzzCase["kind"],
    description: string,
    rest: Omit<FuzzCase, "operation" | "kind" | "description" | "method">,
  ) => ({
    operation: name,
    kind,
    description,
    method: op.method,
    ...rest,
  });
  const cases: FuzzCase[] = [];
  // Bad or missing credentials.
  for (const [description, headers] of [
    ["no Authorization", {}],
    ["a wrong token", { authorization: "Token wrong-token-0000" }],
    ["an empty Bearer", { authorization: "Bearer " }],
    ["a Basic credential", { authorization: "Basic Zm9vOmJhcg==" }],
    ["a 10 kB token", { authorization: `Token ${"z".repeat(10_000)}` }],
    ["a latin-1 token", { authorization: "Token \u00ff\u00fe\u00e9" }],
  ] as [string, Record<string, string>][]) {
    const { headers: h, payload } = withBody(body);
    const { authorization: _, ...rest } = h;
    cases.push(make("auth", description, { url: urlWith(), headers: { ...rest, ...headers }, payload }));
  }
  // Raw bodies: wrong content types, malformed JSON, invalid UTF-8, wrong JSON shapes.
  if (op.method !== "GET" && op.method !== "DELETE") {
    for (const [description, contentType, payload] of [
      ["text/plain", "text/plain", "hello"],
      ["a form body", "application/x-www-form-urlencoded", "a=1&b=2"],
      ["an unknown content type", "application/x-fuzz", "\u0001\u0002"],
      ["malformed JSON", "application/json", '{"a": '],
      ["trailing garbage after JSON", "application/json", "{}}"],
      [
        "invalid UTF-8 bytes",
        "application/json",
        Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x80, 0x7d]),
      ],
      ["an escaped lone surrogate", "application/json", '{"\\ud800": "\\udfff"}'],
      ["an escaped NUL key", "application/json", '{"\\u0000": 1}'],
      ["a JSON array", "application/json", "[]"],
      ["JSON null", "application/json", "null"],
      ["a JSON number", "application/json", "42"],
      ["a JSON string", "application/json", '"s"'],
      ["an empty JSON body", "application/json", ""],
      ["a __proto__ key", "application/json", '{"__proto__": {"admin": true}}'],
      ["deep nesting", "application/json", `${"[".repeat(5000)}${"]".repeat(5000)}`],
      ["nesting 100,000 deep", "application/json", VERY_DEEP],
      ["a body over the size limit", "application/json", TOO_LARGE],
    ] as [string, string, string | Buffer][]) {
      cases.push(
        make("raw-body", description, {
          url: urlWith(),
          headers: { ...auth, "content-type": contentType },
          payload,
        }),
      );
    }
  }
  // Each body field: wrong types and nasty strings, missing when required, plus an unknown field.
  if (op.body && body) {
    for (const [field, schema] of Object.entries(op.body.properties ?? {})) {
      for (const [description, value] of badValues(schema)) {
        cases.push(
          make("body", `body.${field} is ${description}`, {
            url: urlWith(),
            ...withBody({ ...body, [field]: value }),
          }),
        );
      }
      if (op.body.required?.includes(field)) {
        const { [field]: _, ...rest } = body;
        cases.push(make("body", `body.${field} is missing`, { url: urlWith(), ...withBody(rest) }));
      }
    }
    cases.push(
      make("body", "an unknown field", {
        url: urlWith(),
        ...withBody({ ...body, fuzz_unknown: LONE_SURROGATE }),
      }),
    );
  }
  // Each query parameter.
  for (const param of op.query) {
    for (const [description, value] of queryBadValues) {
      const raw = value.replace("REPEAT", param.name);
      cases.push(
        make("query", `query ${param.name} is ${description}`, {
          url: urlWith({}, `${param.name}=${raw}`),
          ...withBody(body),
        }),
      );
    }
  }
  // Each path parameter.
  for (const param of op.pathParams) {
    for (const [description, value] of pathBadValues) {
      cases.push(
        make("path", `path ${param.name} is ${description}`, {
          url: urlWith({ [param.name]: value }),
          ...withBody(body),
        }),
      );
    }
  }
  return cases;
}

/**
 * A seeded choice of at most `perOperation` cases: one of each kind the operation has, then the rest at
 * random, so every operation gets bad auth, bad bodies, bad query and path values on every run.
 */
export function pickCases(cases: FuzzCase[], perOperation: number, random: () => number): FuzzCase[] {
  const shuffled = [...cases];
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [shuffled[i], shuffled[j]] = [shuffled[j] as FuzzCase, shuffled[i] as FuzzCase];
  }
  const picked: FuzzCase[] = [];
  const kinds = new Set<string>();
  for (const c of shuffled) {
    if (!kinds.has(c.kind)) {
      kinds.add(c.kind);
      picked.push(c);
    }
  }
  for (const c of shuffled) {
    if (picked.length >= perOperation) {
      break;
    }
    if (!picked.includes(c)) {
      picked.push(c);
    }
  }
  return picked;
}

/** A case as it can be read in a failure report (long values shortened). */
export function describeCase(c: FuzzCase): Record<string, unknown> {
  const short = (s: string) => (s.length > 200 ? `${s.slice(0, 200)}... (${s.length} chars)` : s);
  return {
    operation: c.operation,
    case: c.description,
    request: `${c.method} ${short(c.url)}`,
    headers: Object.fromEntries(Object.entries(c.headers).map(([k, v]) => [k, short(v)])),
    payload:
      c.payload === undefined
        ? undefined
        : Buffer.isBuffer(c.payload)
          ? `bytes ${c.payload.toString("hex")}`
          : short(c.payload),
  };
}
