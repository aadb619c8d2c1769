// state-counter: a visit counter kept in the `statestore` state store through the Dapr state API,
// using the official @dapr/dapr SDK. Run it with its sidecar from the repository root:
//
//   npx tandem run --app-id counter --app-port 3000 -- node examples/state-counter/server.mjs
//
// `tandem run` sets APP_PORT and DAPR_HTTP_PORT for this process; the defaults below match `dapr run`.
import { createServer } from "node:http";
import { CommunicationProtocolEnum, DaprClient, LogLevel, StateConcurrencyEnum, StateConsistencyEnum } from "@dapr/dapr";

const STORE = process.env.STATE_STORE ?? "statestore";
const KEY = "visits";
const appPort = Number(process.env.APP_PORT ?? "3000");
const daprPort = process.env.DAPR_HTTP_PORT ?? "3500";

const dapr = new DaprClient({
  daprHost: "127.0.0.1",
  daprPort,
  communicationProtocol: CommunicationProtocolEnum.HTTP,
  logger: { level: LogLevel.Warn },
});

/**
 * The stored count and its ETag. Over HTTP the SDK's `state.get` returns only the value, so this
 * reads through `getBulk`, whose items carry the ETag.
 * @returns {Promise<{ count: number, etag: string | undefined }>}
 */
async function readCounter() {
  const [item] = await dapr.state.getBulk(STORE, [KEY]);
  const data = /** @type {unknown} */ (item?.data);
  const etag = /** @type {unknown} */ (item?.etag);
  return { count: typeof data === "number" ? data : 0, etag: typeof etag === "string" && etag !== "" ? etag : undefined };
}

/** @param {unknown} error */
const isConflict = (error) => error instanceof Error && error.message.includes('"status":409');

/**
 * Adds one visit with optimistic concurrency: save only if nobody wrote since we read (first-write
 * plus the ETag we read), and try again on a conflict. Safe with several instances of the app.
 * @returns {Promise<number>}
 */
async function increment() {
  for (let attempt = 1; ; attempt++) {
    const { count, etag } = await readCounter();
    const next = count + 1;
    const item = {
      key: KEY,
      value: next,
      options: { concurrency: StateConcurrencyEnum.CONCURRENCY_FIRST_WRITE, consistency: StateConsistencyEnum.CONSISTENCY_STRONG },
    };
    const result = await dapr.state.save(STORE, [etag === undefined ? item : { ...item, etag }]);
    if (result.error === undefined) return next;
    if (attempt >= 20 || !isConflict(result.error)) throw result.error;
  }
}

/** @returns {Promise<void>} */
async function reset() {
  const result = await dapr.state.delete(STORE, KEY);
  if (result.error !== undefined) throw result.error;
}

/**
 * @param {import("node:http").ServerResponse} res
 * @param {number} status
 * @param {unknown} body
 */
function reply(res, status, body) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body) + "\n");
}

/**
 * @param {import("node:http").IncomingMessage} req
 * @param {import("node:http").ServerResponse} res
 */
async function handle(req, res) {
  const path = new URL(req.url ?? "/", "http://app").pathname;
  if (req.method === "GET" && path === "/") return reply(res, 200, { visits: await increment() });
  if (req.method === "GET" && path === "/healthz") return reply(res, 200, { status: "ok" });
  if (req.method === "POST" && path === "/reset") {
    await reset();
    return reply(res, 200, { visits: 0 });
  }
  reply(res, 404, { error: `no route for ${req.method ?? "?"} ${path}` });
}

// The first SDK call waits for the sidecar to answer (it polls GET /v1.0/metadata).
const { count } = await readCounter();
console.log(`state-counter: ${count} visit(s) so far in state store "${STORE}" (sidecar HTTP port ${daprPort})`);

const server = createServer((req, res) => {
  handle(req, res).catch((err) => {
    console.error("state-counter: request failed:", err instanceof Error ? err.message : err);
    if (!res.headersSent) reply(res, 500, { error: err instanceof Error ? err.message : String(err) });
    else res.end();
  });
});
server.listen(appPort, () => console.log(`state-counter: listening on http://localhost:${appPort} (GET / counts a visit, POST /reset clears the count)`));

const stop = (/** @type {string} */ signal) => {
  console.log(`state-counter: ${signal}, stopping`);
  server.close();
  server.closeAllConnections();
  dapr
    .stop()
    .catch(() => undefined)
    .finally(() => process.exit(0));
};
process.once("SIGTERM", () => stop("SIGTERM"));
process.once("SIGINT", () => stop("SIGINT"));
