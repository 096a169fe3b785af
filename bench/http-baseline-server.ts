/**
 * The HTTP baselines: a server whose `POST /` parses the JSON body and inserts one row with `pg` (the least an
 * accepting API must do), run as its own process like the service APIs. `BASELINE_SERVER=node` (the raw baseline)
 * is a bare node:http server; `fastify` is the same route in a bare fastify app (no hooks, no schema), the framework
 * the service APIs are built on, so that the API's gap to the raw server splits into the framework's part and ours.
 */
import { randomUUID } from "node:crypto";
import http from "node:http";
import Fastify from "fastify";
import pg from "pg";

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
await pool.query("CREATE TABLE IF NOT EXISTS bench_http (id uuid PRIMARY KEY, body jsonb)");
const port = Number(process.env.PORT);

async function insert(body: unknown): Promise<string> {
  const id = randomUUID();
  await pool.query("INSERT INTO bench_http VALUES ($1, $2)", [id, body]);
  return id;
}

if (process.env.BASELINE_SERVER === "fastify") {
  const app = Fastify();
  app.get("/", async () => ({ up: true }));
  app.post("/", async (request, reply) => reply.code(201).send({ id: await insert(request.body) }));
  await app.listen({ port, host: "127.0.0.1" });
} else {
  http
    .createServer((req, res) => {
      if (req.method !== "POST") {
        res.writeHead(200, { "content-type": "application/json" }).end('{"up":true}');
        return;
      }
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        insert(JSON.parse(Buffer.concat(chunks).toString("utf8"))).then(
          (id) => res.writeHead(201, { "content-type": "application/json" }).end(JSON.stringify({ id })),
          () => res.writeHead(500).end(),
        );
      });
    })
    .listen(port, "127.0.0.1");
}
