import assert from "node:assert/strict";
import { test } from "node:test";
import { Command, CommanderError } from "commander";
import { CliError } from "./context.js";
import { addRunOptions, normalizeBooleanFlags, specFromFlags, type RunFlags } from "./run-flags.js";

/** Parse `tandem run` argv with the real option table; returns the flags and the app command. */
function parse(args: readonly string[]): { flags: RunFlags; command: string[] } {
  let result: { flags: RunFlags; command: string[] } | undefined;
  const cmd = addRunOptions(new Command("run").argument("[command...]").passThroughOptions().exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} }));
  cmd.action((command: string[], flags: RunFlags) => {
    result = { flags, command };
  });
  cmd.parse(normalizeBooleanFlags(cmd, args), { from: "user" });
  return result as { flags: RunFlags; command: string[] };
}

const ctx = { cwd: "/work/app", env: { HOME: "/home/u" }, home: "/home/u/.tandem", randomAppId: () => "calm-otter" };

test("cli - run flags take dapr's long and short names", () => {
  const { flags, command } = parse(["-a", "orders", "-p", "3000", "-P", "grpc", "-H", "3600", "-G", "50010", "-I", "50020", "-M", "9191", "--", "node", "app.js", "--port", "1"]);
  assert.deepEqual(command, ["node", "app.js", "--port", "1"]);
  const { spec } = specFromFlags(flags, command, ctx);
  assert.equal(spec.appId, "orders");
  assert.equal(spec.appPort, 3000);
  assert.equal(spec.appProtocol, "grpc");
  assert.equal(spec.daprHttpPort, 3600);
  assert.equal(spec.daprGrpcPort, 50010);
  assert.equal(spec.daprInternalGrpcPort, 50020);
  assert.equal(spec.metricsPort, 9191);
});

test("cli - run without flags uses a random app id, free ports and $TANDEM_HOME resources", () => {
  const { flags, command } = parse(["node", "app.js"]);
  assert.deepEqual(command, ["node", "app.js"]);
  const { spec, defaultResources, defaultConfig } = specFromFlags(flags, command, ctx);
  assert.equal(spec.appId, "calm-otter");
  assert.equal(spec.daprHttpPort, undefined, "the CLI picks a free port later, never 3500");
  assert.equal(spec.appPort, undefined);
  assert.equal(spec.appProtocol, "http");
  assert.equal(spec.appChannelAddress, "127.0.0.1");
  assert.deepEqual(spec.resourcesPaths, ["/home/u/.tandem/components"]);
  assert.equal(spec.configFile, "/home/u/.tandem/config.yaml");
  assert.ok(defaultResources && defaultConfig);
});

test("cli - run flags stop at the first app argument without --", () => {
  const { flags, command } = parse(["-a", "x", "node", "app.js", "-a", "not-ours"]);
  assert.equal(flags.appId, "x");
  assert.deepEqual(command, ["node", "app.js", "-a", "not-ours"]);
});

test("cli - run resources paths are repeatable, CSV, relative to the cwd and ~-expanded", () => {
  const { flags } = parse(["--resources-path", "./a", "--resources-path", "b,~/c", "-c", "conf.yaml"]);
  const { spec, defaultResources, defaultConfig } = specFromFlags(flags, [], ctx);
  assert.deepEqual(spec.resourcesPaths, ["/work/app/a", "/work/app/b", "/home/u/c"]);
  assert.equal(spec.configFile, "/work/app/conf.yaml");
  assert.ok(!defaultResources && !defaultConfig);
});

test("cli - run --components-path is used when no --resources-path is given", () => {
  assert.deepEqual(specFromFlags(parse(["-d", "/comp"]).flags, [], ctx).spec.resourcesPaths, ["/comp"]);
  assert.deepEqual(specFromFlags(parse(["-d", "/comp", "--resources-path", "/res"]).flags, [], ctx).spec.resourcesPaths, ["/res"]);
});

test("cli - run pass-through flags reach the spec", () => {
  const { flags } = parse([
    "--app-max-concurrency", "4", "--enable-app-health-check", "--app-health-check-path", "/hz", "--app-health-probe-interval", "2",
    "--app-health-probe-timeout", "300", "--app-health-threshold", "5", "--max-body-size", "8Mi", "--read-buffer-size", "16Ki",
    "-u", "/tmp/sock", "--log-level", "debug", "--enable-api-logging", "--dapr-listen-addresses", "127.0.0.1",
    "--app-channel-address", "10.0.0.2", "--placement-host-address", "", "--scheduler-host-address", "localhost:50006",
  ]);
  const { spec } = specFromFlags(flags, [], ctx);
  assert.equal(spec.appMaxConcurrency, 4);
  assert.equal(spec.enableAppHealthCheck, true);
  assert.equal(spec.appHealthCheckPath, "/hz");
  assert.equal(spec.appHealthProbeInterval, 2);
  assert.equal(spec.appHealthProbeTimeout, 300);
  assert.equal(spec.appHealthThreshold, 5);
  assert.equal(spec.maxBodySize, "8Mi");
  assert.equal(spec.readBufferSize, "16Ki");
  assert.equal(spec.unixDomainSocket, "/tmp/sock");
  assert.equal(spec.logLevel, "debug");
  assert.equal(spec.enableApiLogging, true);
  assert.equal(spec.daprListenAddresses, "127.0.0.1");
  assert.equal(spec.appChannelAddress, "10.0.0.2");
  assert.equal(spec.placementHostAddress, "");
  assert.equal(spec.schedulerHostAddress, "localhost:50006");
});

test("cli - run rejects bad flag values with commander errors", () => {
  const rejects = (args: string[], message: RegExp) =>
    assert.throws(() => parse(args), (err: unknown) => err instanceof CommanderError && err.exitCode === 1 && message.test(err.message));
  rejects(["-p", "abc"], /expected a port/);
  rejects(["-H", "70000"], /expected a port/);
  rejects(["-P", "ftp"], /Allowed choices are http, https, h2c, grpc, grpcs/);
  rejects(["--log-level", "loud"], /Allowed choices/);
  rejects(["--app-max-concurrency", "x"], /expected an integer/);
  rejects(["--no-such-flag"], /unknown option/);
});

test("cli - run rejects an empty --app-id", () => {
  assert.throws(() => specFromFlags(parse(["-a", ""]).flags, [], ctx), CliError);
});

test("cli - run accepts cobra's --flag=true|false for boolean flags", () => {
  const cmd = addRunOptions(new Command("run"));
  assert.deepEqual(normalizeBooleanFlags(cmd, ["--enable-api-logging=false", "-a", "x", "--app-ssl=true", "--", "app", "--enable-api-logging=false"]), [
    "-a", "x", "--app-ssl", "--", "app", "--enable-api-logging=false",
  ]);
  // A value flag's value is never taken for an app argument, and nothing after the app command is touched.
  assert.deepEqual(normalizeBooleanFlags(cmd, ["-a", "--enable-api-logging=true", "node", "--app-ssl=false"]), ["-a", "--enable-api-logging=true", "node", "--app-ssl=false"]);
  const { flags } = parse(["--enable-api-logging=false", "--enable-app-health-check=true"]);
  assert.equal(flags.enableApiLogging, undefined);
  assert.equal(flags.enableAppHealthCheck, true);
});
