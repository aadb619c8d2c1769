import { test } from "node:test";
import assert from "node:assert/strict";
import { FlagError, sidecarConfig } from "./sidecar-flags.js";

test("sidecar flags - daprd defaults", () => {
  const c = sidecarConfig([], {});
  assert.equal(c.appId, "");
  assert.equal(c.daprHttpPort, 3500);
  assert.equal(c.daprGrpcPort, 50001);
  assert.equal(c.metricsPort, 9090);
  assert.equal(c.maxBodyBytes, 4 * 1024 * 1024);
  assert.equal(c.appProtocol, "http");
  assert.equal(c.appChannelAddress, "127.0.0.1");
  assert.equal(c.appMaxConcurrency, -1);
  assert.equal(c.gracefulShutdownMs, 5000);
  assert.equal(c.appHealthCheckPath, "/healthz");
  assert.equal(c.appHealthProbeIntervalMs, 5000);
  assert.equal(c.appHealthProbeTimeoutMs, 500);
  assert.equal(c.appHealthThreshold, 3);
  assert.equal(c.enableMetrics, true);
  assert.equal(c.appPort, undefined);
});

test("sidecar flags - Go syntax, aliases, repeatable lists and env tokens", () => {
  const c = sidecarConfig(
    ["-app-id", "a", "--dapr-http-port=4000", "--components-path", "x", "--resources-path", "y,z", "--enable-api-logging", "--log-as-json=false", "--max-body-size", "16Mi"],
    { DAPR_API_TOKEN: "t1", APP_API_TOKEN: "t2", NAMESPACE: "ns" },
  );
  assert.equal(c.appId, "a");
  assert.equal(c.daprHttpPort, 4000);
  assert.deepEqual(c.resourcesPaths, ["x", "y", "z"]);
  assert.equal(c.enableApiLogging, true);
  assert.equal(c.logAsJson, false);
  assert.equal(c.maxBodyBytes, 16 * 1024 * 1024);
  assert.equal(c.apiToken, "t1");
  assert.equal(c.appToken, "t2");
  assert.equal(c.namespace, "ns");
});

test("sidecar flags - unknown flags and bad values are FlagErrors naming the flag", () => {
  assert.throws(() => sidecarConfig(["--no-such-flag"], {}), (e: unknown) => e instanceof FlagError && /--no-such-flag/.test(e.message));
  assert.throws(() => sidecarConfig(["--dapr-http-port", "abc"], {}), /--dapr-http-port/);
  assert.throws(() => sidecarConfig(["--dapr-http-port", "70000"], {}), /--dapr-http-port/);
  assert.throws(() => sidecarConfig(["--app-protocol", "ftp"], {}), /--app-protocol/);
  assert.throws(() => sidecarConfig(["--max-body-size", "lots"], {}), /--max-body-size/);
  assert.throws(() => sidecarConfig(["--app-id"], {}), /needs a value/);
  assert.throws(() => sidecarConfig(["--app-health-probe-interval", "1", "--app-health-probe-timeout", "2000"], {}), /timeout/);
});
