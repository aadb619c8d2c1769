import assert from "node:assert/strict";
import { test } from "node:test";
import { appEnvironment, assignPorts, sidecarArgs, sidecarEnvironment, type AppSpec } from "./app-spec.js";
import { CliError } from "./context.js";
import { PortPicker } from "./ports.js";
import { sidecarConfig } from "./sidecar-flags.js";

const base: AppSpec = {
  appId: "orders",
  command: ["node", "app.js"],
  cwd: "/w",
  appProtocol: "http",
  appChannelAddress: "127.0.0.1",
  enableProfiling: false,
  resourcesPaths: ["/r1", "/r2"],
  configFile: "/c.yaml",
  enableAppHealthCheck: false,
  enableApiLogging: false,
  appSsl: false,
  env: {},
};
const ports = { http: 41000, grpc: 41001, internalGrpc: 41002, metrics: 41003 };

test("cli - sidecar args carry the app id, the chosen ports and the resources", () => {
  const args = sidecarArgs({ ...base, appPort: 3000 }, ports);
  const config = sidecarConfig(args, {});
  assert.equal(config.appId, "orders");
  assert.equal(config.daprHttpPort, 41000);
  assert.equal(config.daprGrpcPort, 41001);
  assert.equal(config.daprInternalGrpcPort, 41002);
  assert.equal(config.metricsPort, 41003);
  assert.equal(config.appPort, 3000);
  assert.deepEqual(config.resourcesPaths, ["/r1", "/r2"]);
  assert.deepEqual(config.configFiles, ["/c.yaml"]);
  assert.ok(!args.includes("--app-channel-address"), "the default channel address is not passed");
  assert.ok(!args.includes("--placement-host-address"), "no placement service by default");
});

test("cli - sidecar args pass the pass-through flags in daprd's syntax", () => {
  const args = sidecarArgs(
    {
      ...base,
      appProtocol: "grpc",
      appSsl: true,
      appChannelAddress: "10.1.1.1",
      appMaxConcurrency: 3,
      enableAppHealthCheck: true,
      appHealthCheckPath: "/hz",
      appHealthProbeInterval: 2,
      appHealthProbeTimeout: 400,
      appHealthThreshold: 4,
      maxBodySize: "8Mi",
      readBufferSize: "8Ki",
      logLevel: "debug",
      enableApiLogging: true,
      daprListenAddresses: "127.0.0.1",
      placementHostAddress: "localhost:50005",
      schedulerHostAddress: "",
    },
    ports,
  );
  const c = sidecarConfig(args, {});
  assert.equal(c.appProtocol, "grpcs");
  assert.equal(c.appChannelAddress, "10.1.1.1");
  assert.equal(c.appMaxConcurrency, 3);
  assert.equal(c.enableAppHealthCheck, true);
  assert.equal(c.appHealthCheckPath, "/hz");
  assert.equal(c.appHealthProbeIntervalMs, 2000);
  assert.equal(c.appHealthProbeTimeoutMs, 400);
  assert.equal(c.appHealthThreshold, 4);
  assert.equal(c.maxBodyBytes, 8 * 1024 * 1024);
  assert.equal(c.readBufferBytes, 8 * 1024);
  assert.equal(c.logLevel, "debug");
  assert.equal(c.enableApiLogging, true);
  assert.deepEqual(c.daprListenAddresses, ["127.0.0.1"]);
  assert.equal(c.placementHostAddress, "localhost:50005");
  assert.equal(c.schedulerHostAddress, undefined, "an empty address is not passed");
});

test("cli - the app gets the Dapr variables on top of the user's environment", () => {
  const env = appEnvironment({ ...base, appPort: 3000 }, ports, { PATH: "/bin", APP_ID: "stale", DAPR_API_TOKEN: "tok", UNSET: undefined });
  assert.equal(env.PATH, "/bin");
  assert.equal(env.DAPR_API_TOKEN, "tok");
  assert.equal(env.APP_ID, "orders");
  assert.equal(env.APP_PORT, "3000");
  assert.equal(env.APP_PROTOCOL, "http");
  assert.equal(env.APP_CHANNEL_ADDRESS, "127.0.0.1");
  assert.equal(env.DAPR_HTTP_PORT, "41000");
  assert.equal(env.DAPR_GRPC_PORT, "41001");
  assert.equal(env.DAPR_METRICS_PORT, "41003");
  assert.ok(!("UNSET" in env));
});

test("cli - without an app port APP_PORT is not set, even when the user's environment has one", () => {
  const env = appEnvironment(base, ports, { APP_PORT: "5000" });
  assert.ok(!("APP_PORT" in env));
});

test("cli - app env from a run file wins, and its API tokens reach the sidecar too", () => {
  const spec = { ...base, appSsl: true, env: { APP_ID: "override", DAPR_API_TOKEN: "from-file", OTHER: "x" } };
  const env = appEnvironment(spec, ports, { DAPR_API_TOKEN: "user" });
  assert.equal(env.APP_ID, "override");
  assert.equal(env.APP_PROTOCOL, "https", "--app-ssl turns http into https");
  assert.equal(env.DAPR_API_TOKEN, "from-file");
  const sidecar = sidecarEnvironment(spec, { DAPR_API_TOKEN: "user", APP_API_TOKEN: "app" });
  assert.equal(sidecar.DAPR_API_TOKEN, "from-file");
  assert.equal(sidecar.APP_API_TOKEN, "app");
  assert.ok(!("OTHER" in sidecar), "only the tokens of the app's env reach the sidecar");
});

test("cli - ports not given are free and distinct; a taken given port is an error", async () => {
  const picker = new PortPicker();
  const p = await assignPorts(base, picker);
  assert.equal(new Set([p.http, p.grpc, p.internalGrpc, p.metrics]).size, 4);
  assert.ok(![p.http, p.grpc].includes(3500));
  await assert.rejects(assignPorts({ ...base, daprHttpPort: p.http }, picker), (err: unknown) => err instanceof CliError && /port \d+ \(--dapr-http-port\) is not available/.test(err.message));
});
