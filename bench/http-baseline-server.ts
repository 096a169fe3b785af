/**
 * The raw HTTP baseline: a bare node:http server whose `POST /` parses the JSON body and inserts one row
 * with `pg` (the least an accepting API must do), run as its own process like the service APIs.
 */
import { randomUUID } from "node:crypto";
import http from "node:http";
import pg from "pg";

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
await pool.query("CREATE TABLE IF NOT EXISTS bench_http (id uuid PRIMARY KEY, body jsonb)");

http
  .createServer((req, res) => {
    if (req.method !== "POST") {
      res.writeHead(200, { "content-type": "application/json" }).end('{"up":true}');
      return;
    }
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const id = randomUUID();
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown;
      pool.query("INSERT INTO bench_http VALUES ($1, $2)", [id, body]).then(
        () => res.writeHead(201, { "content-type": "application/json" }).end(JSON.stringify({ id })),
        () => res.writeHead(500).end(),
      );
    });
  })
  .listen(Number(process.env.PORT), "127.0.0.1");
