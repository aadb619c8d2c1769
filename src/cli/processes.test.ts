import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { findSidecars, isAlive, parseSidecarProcess, sidecarAddress, sidecarArgv } from "./processes.js";

test("cli - list recognises sidecar command lines: main.js, bin/tandem.js, tandem, main.ts under tsx", () => {
  assert.deepEqual(sidecarArgv(["/usr/bin/node", "/opt/tandem/dist/main.js", "sidecar", "--app-id", "a"]), ["--app-id", "a"]);
  assert.deepEqual(sidecarArgv(["node", "--enable-source-maps", "/x/bin/tandem.js", "sidecar"]), []);
  assert.deepEqual(sidecarArgv(["node", "/usr/local/bin/tandem", "sidecar", "-app-id", "b"]), ["-app-id", "b"]);
  assert.deepEqual(sidecarArgv(["tandem", "sidecar", "--app-id", "c"]), ["--app-id", "c"]);
  assert.deepEqual(sidecarArgv(["node", "--import", "tsx", "src/main.ts", "sidecar"]), []);
  assert.equal(sidecarArgv(["node", "dist/main.js", "run", "--", "node", "sidecar"]), undefined);
  assert.equal(sidecarArgv(["node", "other.js", "sidecar"]), undefined);
  assert.equal(sidecarArgv(["daprd", "--app-id", "x"]), undefined);
});

test("cli - list reads a sidecar's ports with daprd's defaults", () => {
  const p = parseSidecarProcess(42, ["node", "main.js", "sidecar", "--app-id", "orders", "--app-port", "3000", "--dapr-http-port=3600", "--enable-metrics=false"], 1_000);
  assert.equal(p?.pid, 42);
  assert.equal(p?.startedAt, 1_000);
  assert.equal(p?.config.appId, "orders");
  assert.equal(p?.config.daprHttpPort, 3600);
  assert.equal(p?.config.daprGrpcPort, 50001);
  assert.equal(p?.config.appPort, 3000);
  assert.equal(p?.config.enableMetrics, false);
  assert.equal(parseSidecarProcess(1, ["node", "main.js", "sidecar", "--no-such-flag"]), undefined);
  assert.equal(parseSidecarProcess(1, ["node", "main.js", "sidecar", "--help"]), undefined);
});

test("cli - list reaches a sidecar on loopback unless it listens elsewhere only", () => {
  const addr = (args: string[]) => sidecarAddress(parseSidecarProcess(1, ["tandem", "sidecar", "--app-id", "a", ...args])?.config ?? assert.fail());
  assert.equal(addr([]).host, "127.0.0.1");
  assert.equal(addr(["--dapr-listen-addresses", "0.0.0.0"]).host, "127.0.0.1");
  assert.equal(addr(["--dapr-listen-addresses", "::1"]).host, "::1");
  assert.equal(addr(["--dapr-listen-addresses", "10.0.0.5,10.0.0.6"]).host, "10.0.0.5");
  assert.equal(addr(["--unix-domain-socket", "/tmp/s"]).unixDomainSocket, "/tmp/s");
});

const fake = mkdtempSync(join(tmpdir(), "tandem-proc-"));
after(() => rmSync(fake, { recursive: true, force: true }));

test("cli - list scans /proc: cmdline, start time from stat and btime", () => {
  writeFileSync(join(fake, "stat"), "cpu 1 2 3\nbtime 1700000000\nprocesses 9\n");
  const proc = (pid: number, argv: string[], startTicks: number) => {
    mkdirSync(join(fake, String(pid)));
    writeFileSync(join(fake, String(pid), "cmdline"), argv.join("\0") + "\0");
    const fields = Array.from({ length: 30 }, (_, i) => (i === 18 ? String(startTicks) : "0"));
    writeFileSync(join(fake, String(pid), "stat"), `${pid} (node (x) y) S ${fields.join(" ")}`);
  };
  proc(100, ["node", "/d/main.js", "sidecar", "--app-id", "a"], 250);
  proc(101, ["node", "/d/main.js", "run", "-a", "a"], 250);
  proc(102, ["bash"], 250);
  mkdirSync(join(fake, "self"));
  const found = findSidecars(fake);
  assert.deepEqual(found.map((p) => p.pid), [100]);
  assert.equal(found[0]?.startedAt, 1_700_000_000_000 + 2_500);
});

test("cli - a process that is gone is not alive", () => {
  assert.equal(isAlive(process.pid), true);
  assert.equal(isAlive(2 ** 22 + 12345), false);
});
