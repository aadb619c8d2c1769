import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { CliContext } from "./context.js";
import { tandemCli } from "./tandem-cli.js";

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const ctx: CliContext = { env: { TANDEM_HOME: "/nonexistent/tandem-home" }, out: (t) => (out += t), err: (t) => (err += t), exitCode: 0 };
  const code = await tandemCli(argv, ctx);
  return { code, out, err };
}

test("cli - version and help exit 0", async () => {
  for (const argv of [["--version"], ["-v"], ["version"]]) {
    const r = await cli(...argv);
    assert.equal(r.code, 0);
    assert.match(r.out, /Tandem CLI version: \d+\.\d+\.\d+/);
  }
  for (const argv of [[], ["help"], ["--help"]]) {
    const r = await cli(...argv);
    assert.equal(r.code, 0);
    assert.match(r.out, /Usage: tandem/);
    for (const name of ["init", "run", "list", "stop", "invoke", "publish", "sidecar"]) assert.match(r.out, new RegExp(`\\n  ${name}\\b`));
  }
  const run = await cli("help", "run");
  assert.equal(run.code, 0);
  assert.match(run.out, /--dapr-http-port/);
});

test("cli - an unknown command or flag is a one-line error and exit 1", async () => {
  const unknown = await cli("bogus");
  assert.equal(unknown.code, 1);
  assert.equal(unknown.err, "tandem: unknown command 'bogus'\n");
  const flag = await cli("list", "--bogus");
  assert.equal(flag.code, 1);
  assert.match(flag.err, /^tandem: unknown option '--bogus'\n$/);
  const output = await cli("list", "-o", "xml");
  assert.equal(output.code, 1);
  assert.match(output.err, /Allowed choices are table, json, yaml/);
});

test("cli - missing required flags and contradictory flags are errors", async () => {
  const invoke = await cli("invoke", "--app-id", "x");
  assert.equal(invoke.code, 1);
  assert.match(invoke.err, /required option '-m, --method <method>' not specified/);
  const both = await cli("invoke", "-a", "x", "-m", "m", "--data", "{}", "--data-file", "f");
  assert.equal(both.code, 1);
  assert.match(both.err, /either --data or --data-file/);
  const stop = await cli("stop");
  assert.equal(stop.code, 1);
  assert.match(stop.err, /--app-id <id> or --run-file <path>/);
  const k8s = await cli("run", "-k", "--", "node", "app.js");
  assert.equal(k8s.code, 1);
  assert.match(k8s.err, /Kubernetes/);
  const mixed = await cli("run", "-f", ".", "node", "app.js");
  assert.equal(mixed.code, 1);
  assert.match(mixed.err, /cannot be combined/);
});

test("cli - run checks that resources paths exist before starting anything", async () => {
  const r = await cli("run", "--resources-path", "/nonexistent/resources", "--config", "/nonexistent/c.yaml", "--", "node", "app.js");
  assert.equal(r.code, 1);
  assert.match(r.err, /resources path \/nonexistent\/resources does not exist/);
  assert.doesNotMatch(r.err, /\n\s+at /, "no stack trace");
});

test("cli - run validates sidecar flag combinations as the sidecar would", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tandem-cli-"));
  try {
    writeFileSync(join(dir, "config.yaml"), "");
    const r = await cli("run", "--resources-path", dir, "--config", join(dir, "config.yaml"), "--app-health-probe-interval", "1", "--app-health-probe-timeout", "5000");
    assert.equal(r.code, 1);
    assert.match(r.err, /--app-health-probe-timeout must not be larger than --app-health-probe-interval/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
