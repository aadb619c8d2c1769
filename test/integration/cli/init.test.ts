/** Integration: `tandem init`, version, help and errors through the compiled CLI. */
import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { runCli, tempHome } from "./cli-harness.js";

test("cli - init writes the default resources under TANDEM_HOME and keeps edited files", async () => {
  const home = tempHome();
  try {
    const first = await runCli(["init"], { home });
    assert.equal(first.code, 0, first.stderr);
    const store = readFileSync(join(home, "components", "statestore.yaml"), "utf8");
    assert.match(store, /name: statestore/);
    assert.match(store, /type: state\.sqlite/);
    assert.match(store, /version: v1/);
    assert.ok(store.includes(`value: ${JSON.stringify(join(home, "state.db"))}`), store);
    assert.match(store, /name: actorStateStore\n\s+value: "true"/);
    assert.match(readFileSync(join(home, "config.yaml"), "utf8"), /kind: Configuration\nmetadata:\n  name: daprConfig/);
    assert.match(first.stdout, /Created .*statestore\.yaml/);
    assert.ok(!existsSync(join(home, "state.db")), "init starts nothing");

    writeFileSync(join(home, "config.yaml"), "# mine\n");
    const second = await runCli(["init"], { home });
    assert.equal(second.code, 0);
    assert.match(second.stdout, /Kept .*config\.yaml \(already exists\)/);
    assert.equal(readFileSync(join(home, "config.yaml"), "utf8"), "# mine\n");
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test("cli - version, help, and a clear exit 1 for an unknown command or a bad flag", async () => {
  const home = tempHome();
  try {
    const version = await runCli(["--version"], { home });
    assert.equal(version.code, 0);
    assert.match(version.stdout, /^Tandem CLI version: \d+\.\d+\.\d+/);
    const help = await runCli(["help"], { home });
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: tandem/);
    const unknown = await runCli(["frobnicate"], { home });
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stderr, "tandem: unknown command 'frobnicate'\n");
    const bad = await runCli(["run", "--app-port", "eighty", "--", "node", "-e", "0"], { home });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--app-port <port>' argument 'eighty' is invalid/);
    assert.doesNotMatch(bad.stderr, /\n\s+at /, "no stack trace");
    const missing = await runCli(["run", "--resources-path", join(home, "nope"), "--", "node", "-e", "0"], { home });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /resources path .*nope does not exist/);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});
