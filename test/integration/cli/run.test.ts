/**
 * Integration: `tandem run -- <app>` through the compiled CLI. The app is a small HTTP server that
 * reports its environment on `/env` (reached through the sidecar's invoke API) and exits with
 * code 3 once it has answered that request.
 */
import assert from "node:assert/strict";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { freePort } from "../../harness/ports.js";
import { startCli, stopCli, tempHome, uniqueAppId, type CliProcess } from "./cli-harness.js";

const APP = `
const http = require("node:http");
const names = ["APP_ID", "APP_PORT", "APP_PROTOCOL", "APP_CHANNEL_ADDRESS", "DAPR_HTTP_PORT", "DAPR_GRPC_PORT", "DAPR_METRICS_PORT", "DAPR_API_TOKEN", "APP_API_TOKEN"];
const srv = http.createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    if (req.url !== "/env") { res.statusCode = 404; res.end(); return; }
    const env = Object.fromEntries(names.map((n) => [n, process.env[n] ?? null]));
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ method: req.method, token: req.headers["dapr-api-token"] ?? null, env }), () => {
      console.log("answered " + req.url);
      srv.close();
      process.exitCode = 3;
    });
  });
});
srv.listen(Number(process.env.APP_PORT), "127.0.0.1", () => console.log("app listening on " + process.env.APP_PORT));
`;

test("cli - run passes the Dapr environment to the app, prefixes output and exits with the app's code", async () => {
  const home = tempHome();
  const appId = uniqueAppId("envapp");
  const appPort = await freePort();
  let cli: CliProcess | undefined;
  try {
    cli = startCli(["run", "-a", appId, "-p", String(appPort), "--", process.execPath, "-e", APP], {
      home,
      env: { DAPR_API_TOKEN: "api-secret", APP_API_TOKEN: "app-secret" },
    });
    const started = await cli.waitFor(/Starting Tandem with id \S+\. HTTP Port: (\d+)\. gRPC Port: (\d+)/);
    const [httpPort, grpcPort] = [Number(started[1]), Number(started[2])];
    assert.notEqual(httpPort, 3500, "the CLI picks a free port, not 3500");
    assert.notEqual(grpcPort, 50001);
    await cli.waitFor(/^== APP == app listening on \d+$/m);
    await cli.waitFor(/You're up and running/);
    assert.ok(existsSync(join(home, "components", "statestore.yaml")), "the first run creates the defaults");

    const url = `http://127.0.0.1:${httpPort}/v1.0/invoke/${appId}/method/env`;
    assert.equal((await fetch(url)).status, 401, "the user's DAPR_API_TOKEN reached the sidecar");
    const res = await fetch(url, { headers: { "dapr-api-token": "api-secret" } });
    const text = await res.text();
    assert.equal(res.status, 200, text);
    const body = JSON.parse(text) as { method: string; token: string | null; env: Record<string, string | null> };
    assert.equal(body.method, "GET");
    assert.equal(body.token, "app-secret", "the sidecar sends APP_API_TOKEN to the app");
    assert.deepEqual(body.env, {
      APP_ID: appId,
      APP_PORT: String(appPort),
      APP_PROTOCOL: "http",
      APP_CHANNEL_ADDRESS: "127.0.0.1",
      DAPR_HTTP_PORT: String(httpPort),
      DAPR_GRPC_PORT: String(grpcPort),
      DAPR_METRICS_PORT: body.env.DAPR_METRICS_PORT,
      DAPR_API_TOKEN: "api-secret",
      APP_API_TOKEN: "app-secret",
    });
    assert.match(body.env.DAPR_METRICS_PORT ?? "", /^\d+$/);

    assert.equal(await cli.exited, 3, `tandem run exits with the app's code:\n${cli.output()}`);
    const out = cli.output();
    assert.match(out, /^== APP == answered \/env$/m);
    const sidecarLines = out.split("\n").filter((l) => l.includes("level=") && l.includes("scope=tandem"));
    assert.ok(sidecarLines.length > 0, out);
    for (const line of sidecarLines) assert.ok(line.startsWith("== TANDEM == "), `unprefixed sidecar line: ${line}`);
    assert.match(out, /Exited Tandem successfully/, "the sidecar is stopped when the app exits");
  } finally {
    await stopCli(cli);
    rmSync(home, { recursive: true, force: true });
  }
});

test("cli - run without an app command runs the sidecar alone until signalled", async () => {
  const home = tempHome();
  const appId = uniqueAppId("alone");
  let cli: CliProcess | undefined;
  try {
    cli = startCli(["run", "-a", appId], { home });
    const started = await cli.waitFor(/HTTP Port: (\d+)/);
    await cli.waitFor(/You're up and running! Tandem logs will appear here/);
    const meta = (await (await fetch(`http://127.0.0.1:${started[1]}/v1.0/metadata`)).json()) as { id: string; extended: Record<string, string> };
    assert.equal(meta.id, appId);
    cli.child.kill("SIGINT");
    assert.equal(await cli.exited, 0, cli.output());
    assert.match(cli.output(), /Received SIGINT/);
    assert.match(cli.output(), /== TANDEM == .*graceful shutdown/);
  } finally {
    await stopCli(cli);
    rmSync(home, { recursive: true, force: true });
  }
});

test("cli - run reports an app command that cannot be started and stops the sidecar", async () => {
  const home = tempHome();
  let cli: CliProcess | undefined;
  try {
    cli = startCli(["run", "-a", uniqueAppId("nocmd"), "--", "/nonexistent/tandem-app"], { home });
    assert.equal(await cli.exited, 1, cli.output());
    assert.match(cli.output(), /The App process could not be started: spawn \/nonexistent\/tandem-app ENOENT/);
    assert.match(cli.output(), /Exited Tandem successfully/);
  } finally {
    await stopCli(cli);
    rmSync(home, { recursive: true, force: true });
  }
});
