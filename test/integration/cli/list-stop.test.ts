/**
 * Integration: an app started with `tandem run` as `tandem list`, `tandem invoke`, `tandem publish`
 * and `tandem stop --app-id` see it, through the compiled CLI.
 */
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { test } from "node:test";
import { freePort } from "../../harness/ports.js";
import { waitUntil } from "../../harness/sidecar.js";
import { isAlive, listApps, runCli, startCli, stopCli, tempHome, uniqueAppId, waitListed, type CliProcess } from "./cli-harness.js";

/** Echoes method, path and body; stays up until signalled. */
const ECHO = `
const srv = require("node:http").createServer((req, res) => {
  let body = "";
  req.on("data", (c) => (body += c));
  req.on("end", () => {
    if (req.url.startsWith("/missing")) { res.statusCode = 404; res.end("no such method"); return; }
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ method: req.method, url: req.url, contentType: req.headers["content-type"] ?? null, body }));
  });
});
srv.listen(Number(process.env.APP_PORT), "127.0.0.1", () => console.log("echo up"));
`;

test("cli - list shows an app started with run; invoke reaches it; stop --app-id stops it", async () => {
  const home = tempHome();
  const appId = uniqueAppId("echo");
  const appPort = await freePort();
  let cli: CliProcess | undefined;
  let leftovers: number[] = [];
  try {
    cli = startCli(["run", "--app-id", appId, "--app-port", String(appPort), "--", process.execPath, "-e", ECHO], { home });
    const listed = await waitListed(appId, { home }, cli.exited, cli.output);
    leftovers = [listed.appPid, listed.daprdPid];
    assert.equal(listed.cliPid, cli.child.pid);
    assert.equal(listed.appPort, appPort);
    assert.ok(listed.appPid > 0 && isAlive(listed.appPid));
    assert.ok(listed.daprdPid > 0 && isAlive(listed.daprdPid));
    assert.match(listed.command, /^\S*node -e /);
    const started = await cli.waitFor(/HTTP Port: (\d+)\. gRPC Port: (\d+)/);
    assert.equal(listed.httpPort, Number(started[1]));
    assert.equal(listed.grpcPort, Number(started[2]));

    const table = await runCli(["list"], { home });
    assert.equal(table.code, 0);
    assert.match(table.stdout, /^APP ID\s+HTTP PORT\s+GRPC PORT\s+APP PORT\s+COMMAND\s+AGE\s+CREATED\s+DAPRD PID\s+CLI PID\s+APP PID$/m);
    assert.match(table.stdout, new RegExp(`^${appId}\\s+${listed.httpPort}\\s+`, "m"));
    const yaml = await runCli(["list", "-o", "yaml"], { home });
    assert.match(yaml.stdout, new RegExp(`appId: ${appId}\\n`));

    const invoked = await runCli(["invoke", "--app-id", appId, "--method", "orders/1?x=y", "--data", '{"n":1}'], { home });
    assert.equal(invoked.code, 0, invoked.stderr);
    assert.deepEqual(JSON.parse(invoked.stdout), { method: "POST", url: "/orders/1?x=y", contentType: "application/json", body: '{"n":1}' });
    assert.match(invoked.stderr, /App invoked successfully/);
    const get = await runCli(["invoke", "-a", appId, "-m", "ping", "--verb", "GET"], { home });
    assert.equal(get.code, 0, get.stderr);
    assert.equal((JSON.parse(get.stdout) as { method: string }).method, "GET");
    const missing = await runCli(["invoke", "-a", appId, "-m", "missing"], { home });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /error invoking app .*: 404 no such method/);
    const nobody = await runCli(["invoke", "-a", `${appId}-nobody`, "-m", "x"], { home });
    assert.equal(nobody.code, 1);
    assert.match(nobody.stderr, /app ID \S+ not found/);

    // Pub/sub is not served yet: the command must reach the sidecar and report its error.
    const published = await runCli(["publish", "--publish-app-id", appId, "--pubsub", "pubsub", "--topic", "orders", "--data", '{"a":1}'], { home });
    assert.ok(published.code === 0 || /error publishing to pubsub\/orders: \d{3}/.test(published.stderr), published.stderr);

    const stopped = await runCli(["stop", "--app-id", appId], { home });
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.match(stopped.stdout, new RegExp(`app stopped successfully: ${appId}`));
    assert.equal(await cli.exited, 0, `the CLI exits once it stopped its app:\n${cli.output()}`);
    await waitUntil(() => Promise.resolve(!isAlive(listed.appPid) && !isAlive(listed.daprdPid)), new Promise(() => undefined), 10_000, () => cli?.output() ?? "");
    assert.ok(!(await listApps({ home })).some((a) => a.appId === appId));
    const again = await runCli(["stop", "--app-id", appId], { home });
    assert.equal(again.code, 1);
    assert.match(again.stderr, /couldn't find app id/);
  } finally {
    await stopCli(cli, leftovers);
    rmSync(home, { recursive: true, force: true });
  }
});
