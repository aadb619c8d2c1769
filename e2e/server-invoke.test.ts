/**
 * End to end: the official `@dapr/dapr` DaprServer (its Express app server, HTTP) as the app behind
 * a real Tandem sidecar started with `--app-port`, and DaprClient invoking it through the
 * sidecar's own-app invocation (`/v1.0/invoke/<own id>/method/<m>`).
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { CommunicationProtocolEnum, DaprServer, HttpMethod, type DaprClient, type DaprInvokerCallbackContent } from "@dapr/dapr";
import { freePort } from "../test/harness/ports.js";
import { component, startSidecar, waitUntil, type SidecarProcess } from "../test/harness/sidecar.js";
import { quietLogger, sdkClient, sdkFailure } from "./support/sdk.js";

const APP_ID = "e2e-server";

let sc: SidecarProcess;
let server: DaprServer;
let client: DaprClient;
const seen: DaprInvokerCallbackContent[] = [];

before(async () => {
  const appPort = await freePort();
  // The sidecar's API is up before the app listens (daprd's start-up order); readiness waits for the app.
  sc = await startSidecar({
    appId: APP_ID,
    args: ["--app-port", String(appPort)],
    resources: { "mem.yaml": component("mem", "state.in-memory") },
    waitFor: "outbound",
  });
  const logger = quietLogger();
  server = new DaprServer({
    serverHost: "127.0.0.1",
    serverPort: String(appPort),
    communicationProtocol: CommunicationProtocolEnum.HTTP,
    clientOptions: { daprHost: "127.0.0.1", daprPort: String(sc.httpPort), communicationProtocol: CommunicationProtocolEnum.HTTP, logger },
    logger,
  });
  await server.invoker.listen(
    "hello",
    (data: DaprInvokerCallbackContent) => {
      seen.push(data);
      const received: unknown = data.body === undefined ? null : JSON.parse(data.body);
      return Promise.resolve({ hello: "world", received });
    },
    { method: HttpMethod.POST },
  );
  await server.invoker.listen("ping", () => Promise.resolve({ pong: true }));
  // Starts Express, then polls the sidecar's GET /v1.0/metadata until it answers.
  await server.start();
  await waitUntil(async () => (await fetch(`${sc.url}/v1.0/healthz`)).status === 204, sc.exited, 15_000, sc.output);
  client = sdkClient(sc.httpPort);
});

after(async () => {
  await server.stop();
  await client.stop();
  await sc.stop();
});

test("invoke - DaprClient invokes a DaprServer POST method through the sidecar's own-app invocation", async () => {
  const reply = await client.invoker.invoke(APP_ID, "hello", HttpMethod.POST, { x: 1 });
  assert.deepEqual(reply, { hello: "world", received: { x: 1 } });
  const call = seen.at(-1);
  assert.ok(call);
  assert.equal(call.metadata?.contentType, "application/json");
  const headers = call.headers as Record<string, unknown>;
  assert.equal(headers["dapr-caller-app-id"], APP_ID);
  assert.equal(headers["dapr-callee-app-id"], APP_ID);
});

test("invoke - the DaprServer's own client reaches its app through the sidecar, GET by default", async () => {
  assert.deepEqual(await server.client.invoker.invoke(APP_ID, "ping", HttpMethod.GET), { pong: true });
  assert.deepEqual(await server.client.invoker.invoke(APP_ID, "hello", HttpMethod.POST, { nested: { list: [1, 2] } }), {
    hello: "world",
    received: { nested: { list: [1, 2] } },
  });
});

test("invoke - an app's non-2xx reply reaches the SDK as a thrown error with the app's status", async () => {
  // Express answers 404 for a route nobody registered; the sidecar relays it verbatim.
  await assert.rejects(client.invoker.invoke(APP_ID, "nobody-listens", HttpMethod.POST, { x: 1 }), (err: unknown) => {
    const f = sdkFailure(err);
    assert.equal(f.status, 404, f.text);
    return true;
  });
});

test("invoke - state saved through the DaprServer's client is visible to another client", async () => {
  await server.client.state.save("mem", [{ key: "from-server", value: { by: "server" } }]);
  assert.deepEqual(await client.state.get("mem", "from-server"), { by: "server" });
});
