/**
 * The raw Redis Streams baselines of bench/pubsub.ts and the small processes its delivery runs use.
 *
 * - `openXadd` (inside the load generator's process): `XADD <stream> * data <bytes> metadata {}` —
 *   exactly the command pubsub.redis sends for one publish, with the envelope bytes the sidecar
 *   would store — on one ioredis connection with auto-pipelining, as the component has. `batch` > 1
 *   sends that many XADDs at once (auto-pipelined), as the block's bulk fallback does.
 * - `RAW_CONSUMER` (its own process): XREADGROUP COUNT 100 BLOCK on one connection, XACK of every
 *   entry (auto-pipelined on a second connection, as pubsub.redis), counting acknowledged entries.
 * - `COUNTING_APP` (its own process): the subscriber app behind sidecar B, a plain node:http server
 *   answering `/dapr/subscribe` and 200 to every delivery, counting them.
 * Both processes answer `GET /count` with their count.
 */
import { Redis } from "ioredis";
import type { Send } from "./load-gen.js";

export interface XaddJob {
  readonly host: string;
  readonly port: number;
  readonly stream: string;
  /** The `data` field's bytes (the envelope the sidecar would write). */
  readonly data: string;
  /** The `metadata` field, as pubsub.redis writes it (`{}` for a publish without metadata). */
  readonly metadata: string;
  /** XADDs per send (1, or the entries of one bulk request). */
  readonly batch: number;
}

export async function openXadd(job: XaddJob): Promise<{ send: Send; close(): Promise<void> }> {
  const client = new Redis({ host: job.host, port: job.port, enableAutoPipelining: true, lazyConnect: true });
  await client.connect();
  const data = Buffer.from(job.data);
  const one = () => client.xadd(job.stream, "*", "data", data, "metadata", job.metadata);
  const send: Send = (_i, done) => {
    const p = job.batch === 1 ? one() : Promise.all(Array.from({ length: job.batch }, one));
    p.then(
      () => done(200, undefined),
      (err: unknown) => done(undefined, err instanceof Error ? err : new Error(String(err))),
    );
  };
  return { send, close: async () => void (await client.quit()) };
}

/** env: HOST, PORT (redis), STREAM, GROUP, HTTP_PORT. */
export const RAW_CONSUMER = `
const http = require("node:http");
const { Redis } = require("ioredis");
const { HOST, PORT, STREAM, GROUP, HTTP_PORT } = process.env;
const reader = new Redis({ host: HOST, port: Number(PORT), enableAutoPipelining: false });
const client = new Redis({ host: HOST, port: Number(PORT), enableAutoPipelining: true });
let count = 0;
let stopping = false;
http.createServer((req, res) => { res.writeHead(200, { "content-type": "text/plain" }); res.end(String(count)); })
  .listen(Number(HTTP_PORT), "127.0.0.1");
process.once("SIGTERM", () => { stopping = true; reader.disconnect(); client.disconnect(); process.exit(0); });
(async () => {
  try { await client.xgroup("CREATE", STREAM, GROUP, "0", "MKSTREAM"); } catch (err) { if (!String(err).includes("BUSYGROUP")) throw err; }
  while (!stopping) {
    const reply = await reader.xreadgroupBuffer("GROUP", GROUP, GROUP, "COUNT", 100, "BLOCK", 1000, "STREAMS", STREAM, ">");
    if (reply === null) continue;
    const acks = [];
    for (const [, entries] of reply) for (const [id] of entries) acks.push(client.xack(STREAM, GROUP, id).then(() => void count++));
    await Promise.all(acks);
  }
})().catch((err) => { console.error(err); process.exit(1); });
`;

/** env: HTTP_PORT, SUBSCRIPTIONS (the JSON answered to /dapr/subscribe). */
export const COUNTING_APP = `
const http = require("node:http");
const subscriptions = process.env.SUBSCRIPTIONS;
let count = 0;
http.createServer({ keepAliveTimeout: 65000 }, (req, res) => {
  if (req.method === "GET") {
    const body = req.url === "/dapr/subscribe" ? subscriptions : String(count);
    res.writeHead(200, { "content-type": req.url === "/dapr/subscribe" ? "application/json" : "text/plain" });
    res.end(body);
    return;
  }
  req.on("data", () => undefined);
  req.on("end", () => { count++; res.writeHead(200); res.end(); });
}).listen(Number(process.env.HTTP_PORT), "127.0.0.1");
`;
