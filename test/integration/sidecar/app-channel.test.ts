/** Integration: the HTTP app channel — start-up order, invocation of the own app, app token, health checks, max concurrency. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { freePort } from "../../harness/ports.js";
import { startSidecar, waitUntil } from "../../harness/sidecar.js";

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
}

async function startApp(port: number, handler: (req: IncomingMessage, res: ServerResponse, body: string) => void): Promise<Server> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => handler(req, res, Buffer.concat(chunks).toString()));
  });
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
  return server;
}

test("app channel - healthz waits for the app port; invocation reaches the app with the app token and identity headers", async () => {
  const appPort = await freePort();
  const sc = await startSidecar({ appId: "chan", args: ["--app-port", String(appPort)], env: { APP_API_TOKEN: "app-tok" }, waitFor: "outbound" });
  try {
    const r = await fetch(sc.url + "/v1.0/healthz");
    assert.equal(r.status, 500);
    const body = (await r.json()) as { errorCode: string; message: string };
    assert.equal(body.errorCode, "ERR_HEALTH_NOT_READY");
    assert.match(body.message, /app-channel/);

    const seen: Seen[] = [];
    const app = await startApp(appPort, (req, res, b) => {
      seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: b });
      res.writeHead(201, { "content-type": "text/plain", "x-app": "yes" });
      res.end(`got ${b}`);
    });
    try {
      await waitUntil(async () => (await fetch(sc.url + "/v1.0/healthz")).status === 204, sc.exited, 10_000, sc.output);
      let inv = await fetch(sc.url + "/v1.0/invoke/chan/method/orders/1?x=1", {
        method: "PUT",
        body: "hello",
        headers: { "content-type": "text/plain", "dapr-caller-app-id": "impostor" },
      });
      assert.equal(inv.status, 201);
      assert.equal(inv.headers.get("x-app"), "yes");
      assert.equal(await inv.text(), "got hello");
      const s = seen.at(-1) as Seen;
      assert.equal(s.method, "PUT");
      assert.equal(s.url, "/orders/1?x=1");
      assert.equal(s.headers["dapr-api-token"], "app-tok");
      assert.equal(s.headers["dapr-caller-app-id"], "chan");
      assert.equal(s.headers["dapr-callee-app-id"], "chan");

      inv = await fetch(sc.url + "/some/path/../route", { method: "POST", body: "x", headers: { "dapr-app-id": "chan" } });
      assert.equal(inv.status, 201);
      assert.equal((seen.at(-1) as Seen).url, "/some/route");

      inv = await fetch(sc.url + "/v1.0/invoke/other-app/method/x");
      assert.equal(inv.status, 500);
      assert.equal(((await inv.json()) as { errorCode: string }).errorCode, "ERR_DIRECT_INVOKE");
    } finally {
      app.close();
    }
  } finally {
    await sc.stop();
  }
});

test("app channel - health checks mark the app unhealthy after the threshold and healthy again on success", async () => {
  const appPort = await freePort();
  let healthy = true;
  const app = await startApp(appPort, (req, res) => {
    if (req.url === "/healthz") {
      res.writeHead(healthy ? 200 : 503);
      res.end();
      return;
    }
    res.writeHead(200);
    res.end("ok");
  });
  const sc = await startSidecar({
    appId: "hc",
    args: ["--app-port", String(appPort), "--enable-app-health-check", "--app-health-probe-interval", "1", "--app-health-threshold", "1", "--app-health-probe-timeout", "200"],
  });
  try {
    const invoke = () => fetch(sc.url + "/v1.0/invoke/hc/method/work");
    await waitUntil(async () => (await invoke()).status === 200, sc.exited, 5000, sc.output);
    healthy = false;
    await waitUntil(async () => (await invoke()).status === 500, sc.exited, 5000, sc.output);
    const body = (await (await invoke()).json()) as { message: string };
    assert.match(body.message, /app is not in a healthy state/);
    healthy = true;
    await waitUntil(async () => (await invoke()).status === 200, sc.exited, 5000, sc.output);
  } finally {
    await sc.stop();
    app.close();
  }
});

test("app channel - --app-max-concurrency bounds in-flight requests to the app", async () => {
  const appPort = await freePort();
  let inFlight = 0;
  let maxInFlight = 0;
  let arrived = 0;
  const holds: (() => void)[] = [];
  let onArrive: (() => void) | undefined;
  const app = await startApp(appPort, (_req, res) => {
    inFlight++;
    arrived++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    holds.push(() => {
      inFlight--;
      res.end("done");
    });
    onArrive?.();
  });
  const sc = await startSidecar({ appId: "mc", args: ["--app-port", String(appPort), "--app-max-concurrency", "1"] });
  try {
    const firstArrived = new Promise<void>((r) => (onArrive = r));
    const calls = [1, 2, 3].map(() => fetch(sc.url + "/v1.0/invoke/mc/method/slow").then((r) => r.text()));
    await firstArrived;
    // Release each held request as the next one arrives; the app must never see two at once.
    while (arrived < 3 || holds.length > 0) {
      const next = arrived < 3 ? new Promise<void>((r) => (onArrive = r)) : undefined;
      holds.shift()?.();
      if (next) await next;
    }
    assert.deepEqual(await Promise.all(calls), ["done", "done", "done"]);
    assert.equal(maxInFlight, 1);
  } finally {
    await sc.stop();
    app.close();
  }
});
