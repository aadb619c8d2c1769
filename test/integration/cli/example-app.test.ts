/**
 * Integration: the state-counter example (examples/state-counter) through the real compiled CLI,
 * `tandem run` on its embedded defaults (a state.sqlite `statestore` under $TANDEM_HOME), twice
 * with the same TANDEM_HOME: the count survives the restart.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../harness/ports.js";
import { assertBuilt, MAIN, ROOT, waitUntil } from "../../harness/sidecar.js";

interface RunningExample {
  readonly appUrl: string;
  readonly appPort: number;
  readonly child: ChildProcess;
  readonly exited: Promise<number | string>;
  output(): string;
}

async function startExample(tandemHome: string): Promise<RunningExample> {
  const appPort = await freePort();
  const child = spawn(
    process.execPath,
    [MAIN, "run", "--app-id", "counter", "--app-port", String(appPort), "--", process.execPath, "examples/state-counter/server.mjs"],
    // Its own process group, so a failed test can clean up the CLI and whatever it started.
    { cwd: ROOT, env: { ...process.env, TANDEM_HOME: tandemHome }, stdio: ["ignore", "pipe", "pipe"], detached: true },
  );
  let out = "";
  child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | string>((res) => child.once("exit", (code, signal) => res(code ?? signal ?? -1)));
  const appUrl = `http://127.0.0.1:${appPort}`;
  const output = () => out;
  // /healthz does not count a visit; it answers once the app has read its count through the sidecar.
  await waitUntil(async () => (await fetch(`${appUrl}/healthz`).catch(() => undefined))?.status === 200, exited, 30_000, output);
  return { appUrl, appPort, child, exited, output };
}

async function visits(ex: RunningExample, method = "GET", path = "/"): Promise<number> {
  const r = await fetch(ex.appUrl + path, { method });
  const text = await r.text();
  assert.equal(r.status, 200, `${method} ${path}: ${text}\n${ex.output()}`);
  const body = JSON.parse(text) as { visits?: unknown };
  assert.equal(typeof body.visits, "number", text);
  return body.visits as number;
}

/** The app logs its count on start-up; `tandem run` relays the app's output (asynchronously, so wait for it). */
async function logged(ex: RunningExample, line: RegExp): Promise<void> {
  await waitUntil(() => Promise.resolve(line.test(ex.output())), ex.exited, 5_000, () => `no log line ${String(line)}:\n${ex.output()}`);
}

function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, "127.0.0.1");
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

/** SIGTERM to the CLI only; it must exit cleanly and take the app with it. */
async function stopExample(ex: RunningExample): Promise<void> {
  ex.child.kill("SIGTERM");
  const deadline = new Promise<"timeout">((res) => setTimeout(() => res("timeout"), 20_000).unref());
  const code = await Promise.race([ex.exited, deadline]);
  assert.notEqual(code, "timeout", `tandem run did not exit within 20 s of SIGTERM:\n${ex.output()}`);
  assert.equal(code, 0, `tandem run exit status after SIGTERM:\n${ex.output()}`);
  await waitUntil(async () => !(await portAccepts(ex.appPort)), new Promise(() => undefined), 5_000, () => `the app still listens on ${ex.appPort} after tandem run exited:\n${ex.output()}`);
}

function cleanUp(ex: RunningExample | undefined): void {
  if (ex === undefined || ex.child.pid === undefined) return;
  if (ex.child.exitCode !== null || ex.child.signalCode !== null) return;
  try {
    process.kill(-ex.child.pid, "SIGKILL");
  } catch {
    /* already gone */
  }
}

test("example - state-counter under tandem run counts visits and keeps the count across a restart", async () => {
  assertBuilt();
  const home = mkdtempSync(join(tmpdir(), "tandem-home-"));
  let ex: RunningExample | undefined;
  try {
    ex = await startExample(home);
    await logged(ex, /state-counter: 0 visit\(s\) so far/);
    assert.equal(await visits(ex), 1);
    assert.equal(await visits(ex), 2);
    await stopExample(ex);

    ex = await startExample(home);
    await logged(ex, /state-counter: 2 visit\(s\) so far/);
    assert.equal(await visits(ex), 3, "the count continues after a restart with the same TANDEM_HOME");
    assert.equal(await visits(ex, "POST", "/reset"), 0);
    assert.equal(await visits(ex), 1);
    await stopExample(ex);
  } finally {
    cleanUp(ex);
    rmSync(home, { recursive: true, force: true });
  }
});
