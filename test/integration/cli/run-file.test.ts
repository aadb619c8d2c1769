/** Integration: a two-app run file with `tandem run -f` and `tandem stop -f`, through the compiled CLI. */
import assert from "node:assert/strict";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { waitUntil } from "../../harness/sidecar.js";
import { isAlive, runCli, startCli, stopCli, tempHome, uniqueAppId, waitListed, type CliProcess } from "./cli-harness.js";

const APP = `console.log("hello from " + process.env.APP_ID + " " + process.env.GREETING + " in " + process.cwd()); setInterval(() => {}, 1000);`;

test("cli - run -f starts every app of a run file with its sidecar; stop -f stops them all", async () => {
  const home = tempHome();
  const dir = tempHome();
  const [first, second] = [uniqueAppId("first"), uniqueAppId("second")];
  mkdirSync(join(dir, "first"));
  mkdirSync(join(dir, "second", ".dapr", "resources"), { recursive: true });
  writeFileSync(
    join(dir, "dapr.yaml"),
    `version: 1
name: pair
common:
  env:
    GREETING: common
apps:
  - appID: ${first}
    appDirPath: ./first
    command: ["${process.execPath}", "-e", ${JSON.stringify(APP)}]
  - appID: ${second}
    appDirPath: ./second
    appLogDestination: console
    daprdLogDestination: console
    env: {GREETING: own}
    command: ["${process.execPath}", "-e", ${JSON.stringify(APP)}]
`,
  );
  let cli: CliProcess | undefined;
  let leftovers: number[] = [];
  try {
    cli = startCli(["run", "-f", "."], { home, cwd: dir });
    const a = await waitListed(first, { home }, cli.exited, cli.output);
    const b = await waitListed(second, { home }, cli.exited, cli.output);
    leftovers = [a.appPid, a.daprdPid, b.appPid, b.daprdPid];
    for (const app of [a, b]) {
      assert.equal(app.cliPid, cli.child.pid);
      assert.equal(app.runTemplatePath, join(dir, "dapr.yaml"));
    }
    await cli.waitFor(new RegExp(`^== APP - ${first} == hello from ${first} common in ${join(dir, "first")}$`, "m"));
    await cli.waitFor(new RegExp(`^== APP - ${second} == hello from ${second} own in ${join(dir, "second")}$`, "m"));
    await cli.waitFor(new RegExp(`^== TANDEM - ${second} == `, "m"));
    assert.doesNotMatch(cli.output(), new RegExp(`== TANDEM - ${first} == `), "the first app's sidecar logs go to a file only (the default)");

    const logs = join(dir, "first", ".dapr", "logs");
    assert.equal(a.appLogPath, join(logs, readdirSync(logs).find((f) => f.startsWith(`${first}_app_`)) ?? "?"));
    assert.match(a.daprdLogPath, new RegExp(`/first/\\.dapr/logs/${first}_daprd_\\d{14}\\.log$`));
    await waitUntil(() => Promise.resolve(readFileSync(a.appLogPath, "utf8").includes(`hello from ${first}`)), cli.exited, 10_000, cli.output);
    assert.match(readFileSync(a.daprdLogPath, "utf8"), /level=info/);
    assert.equal(b.appLogPath, "", "console-only logs write no file");
    assert.deepEqual(readdirSync(join(home, "runs")), [`${cli.child.pid}.json`]);

    const stopped = await runCli(["stop", "-f", dir], { home });
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.equal(await cli.exited, 0, cli.output());
    await waitUntil(() => Promise.resolve(leftovers.every((pid) => !isAlive(pid))), new Promise(() => undefined), 10_000, cli.output);
    assert.deepEqual(readdirSync(join(home, "runs")), [], "the run record is removed");
    const again = await runCli(["stop", "-f", dir], { home });
    assert.equal(again.code, 1);
    assert.match(again.stderr, /couldn't find apps with run file/);
  } finally {
    await stopCli(cli, leftovers);
    rmSync(home, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }
});

test("cli - run -f reports run file errors naming the field", async () => {
  const home = tempHome();
  try {
    writeFileSync(join(home, "dapr.yaml"), "apps:\n  - appDirPath: ./missing\n    appPort: web\n");
    const r = await runCli(["run", "-f", home], { home });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /version: required/);
    assert.match(r.stderr, /apps\[0\]\.appPort: expected an integer/);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});
