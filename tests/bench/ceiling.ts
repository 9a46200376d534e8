/**
 * The read ceiling the service is measured against (docs/money.md, "Benchmark"): Bun.serve and pg
 * with nothing else, answering GET /v1/wallets/{id} with one primary-key SELECT of the wallet as
 * JSON. No authentication, validation, logging, metrics or tracing: what the service's own read
 * path costs is the distance to this.
 *
 * Run by tests/bench/run.ts as its own process: DATABASE_URL, PORT, DB_POOL_MAX (20).
 */
import pg from "pg";

const pool = new pg.Pool({
  connectionString: process.env.DATABASE_URL,
  max: Number(process.env.DB_POOL_MAX ?? 20),
});

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: Number(process.env.PORT),
  async fetch(request) {
    const id = new URL(request.url).pathname.split("/").at(-1);
    if (id === "ready") return new Response("ok");
    const result = await pool.query("SELECT * FROM wallets WHERE id = $1", [id]);
    const wallet = result.rows[0];
    return wallet === undefined ? new Response(null, { status: 404 }) : Response.json(wallet);
  },
});

process.on("SIGTERM", () => {
  void server.stop(true).then(() => pool.end());
});
