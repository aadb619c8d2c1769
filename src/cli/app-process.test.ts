import assert from "node:assert/strict";
import { test } from "node:test";
import { outcomeExitCode } from "./app-process.js";

const ok = { code: 0, signal: null };
const code = (n: number) => ({ code: n, signal: null });
const killed = (signal: NodeJS.Signals) => ({ code: null, signal });

test("cli - run exits with the app's exit code when the app ends on its own", () => {
  assert.equal(outcomeExitCode({ first: "app", app: code(3), sidecar: ok }), 3);
  assert.equal(outcomeExitCode({ first: "app", app: ok, sidecar: ok }), 0);
  assert.equal(outcomeExitCode({ first: "app", app: killed("SIGKILL"), sidecar: ok }), 137);
  assert.equal(outcomeExitCode({ first: "app", app: { code: null, signal: null, error: new Error("ENOENT") }, sidecar: ok }), 1);
});

test("cli - run exits 0 after a requested stop, unless the app itself reports an error", () => {
  assert.equal(outcomeExitCode({ first: "stop", app: killed("SIGTERM"), sidecar: ok }), 0);
  assert.equal(outcomeExitCode({ first: "stop", app: code(2), sidecar: ok }), 2);
  assert.equal(outcomeExitCode({ first: "stop", sidecar: ok }), 0);
});

test("cli - run fails when the sidecar ends first", () => {
  assert.equal(outcomeExitCode({ first: "sidecar", app: killed("SIGTERM"), sidecar: code(1) }), 1);
  assert.equal(outcomeExitCode({ first: "sidecar", app: killed("SIGTERM"), sidecar: ok }), 1);
  assert.equal(outcomeExitCode({ first: "sidecar", sidecar: ok }), 0, "a sidecar alone that shut down cleanly (POST /v1.0/shutdown)");
  assert.equal(outcomeExitCode({ first: "sidecar", sidecar: code(1) }), 1);
});
