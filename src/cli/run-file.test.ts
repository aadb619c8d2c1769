import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { CliError } from "./context.js";
import { loadRunFile, parseRunFile, runFilePath } from "./run-file.js";

const root = mkdtempSync(join(tmpdir(), "tandem-runfile-"));
after(() => rmSync(root, { recursive: true, force: true }));
const home = join(root, "home");
let n = 0;

/** A fresh directory holding `dapr.yaml` with `yaml` plus the given (empty) dirs and files. */
function layout(yaml: string, dirs: readonly string[] = [], files: readonly string[] = []): string {
  const dir = join(root, `case-${++n}`);
  mkdirSync(dir, { recursive: true });
  for (const d of dirs) mkdirSync(join(dir, d), { recursive: true });
  for (const f of files) writeFileSync(join(dir, f), "");
  writeFileSync(join(dir, "dapr.yaml"), yaml);
  return dir;
}

const fails = (fn: () => unknown, ...messages: RegExp[]) =>
  assert.throws(fn, (err: unknown) => err instanceof CliError && messages.every((m) => m.test(err.message)));

test("cli - run file needs a non-zero version and a list of apps", () => {
  fails(() => parseRunFile("apps: [{appDirPath: a}]"), /version: required/);
  fails(() => parseRunFile("version: 0\napps: [{appDirPath: a}]"), /version: required/);
  fails(() => parseRunFile("version: 1"), /apps: required/);
  fails(() => parseRunFile("version: 1\napps: []"), /apps: at least one app/);
  fails(() => parseRunFile("version: 1\napps: {a: 1}"), /apps: expected a list/);
  fails(() => parseRunFile("version: [1\n"), /invalid YAML/);
});

test("cli - run file type errors name the field, all at once", () => {
  const yaml = `version: 1
common:
  appLogDestination: screen
  env: [A]
apps:
  - appDirPath: a
    appPort: http
    command: node app.js
    enableApiLogging: maybe
    daprHTTPPort: 70000
`;
  fails(
    () => parseRunFile(yaml),
    /common\.appLogDestination: expected one of console, file, fileAndConsole/,
    /common\.env: expected a map/,
    /apps\[0\]\.appPort: expected an integer/,
    /apps\[0\]\.command: expected a list of strings/,
    /apps\[0\]\.enableApiLogging: expected true or false/,
    /apps\[0\]\.daprHTTPPort: expected a port/,
  );
});

test("cli - run file reads Dapr's YAML names and keeps scalars as dapr does", () => {
  const f = parseRunFile(`version: 1
name: shop
common: {appProtocol: HTTP, maxBodySize: 8Mi, env: {DEBUG: true, N: 3, E: null}}
apps:
  - appID: orders
    appDirPath: ./orders
    appPort: "3000"
    daprHTTPPort: 3500
    daprGRPCPort: 50001
    daprInternalGRPCPort: 50002
    metricsPort: 9091
    command: ["node", "app.js", 1]
    containerImage: ghcr.io/x/orders
    typo: 1
`);
  assert.equal(f.name, "shop");
  assert.equal(f.common.appProtocol, "http");
  assert.deepEqual(f.common.env, { DEBUG: "true", N: "3", E: "" });
  const a = f.apps[0];
  assert.equal(a?.appID, "orders");
  assert.equal(a?.appPort, 3000);
  assert.equal(a?.daprHTTPPort, 3500);
  assert.equal(a?.daprInternalGRPCPort, 50002);
  assert.deepEqual(a?.command, ["node", "app.js", "1"]);
  assert.deepEqual(f.warnings, ["apps[0].typo: unknown field, ignored"]);
});

test("cli - run file paths: appDirPath from the file's directory, app paths from appDirPath, each must exist", () => {
  const dir = layout(
    `version: 1
common: {resourcesPath: ./shared}
apps:
  - appDirPath: ./orders
    resourcesPaths: [./res]
    resourcesPath: ./more
    configFilePath: conf.yaml
`,
    ["shared", "orders/res", "orders/more"],
    ["orders/conf.yaml"],
  );
  const f = loadRunFile(join(dir, "dapr.yaml"), home, {});
  const app = f.apps[0];
  assert.equal(app?.appDirPath, join(dir, "orders"));
  assert.equal(app?.spec.cwd, join(dir, "orders"));
  assert.deepEqual(app?.spec.resourcesPaths, [join(dir, "orders/res"), join(dir, "orders/more")], "the singular resourcesPath is appended");
  assert.equal(app?.spec.configFile, join(dir, "orders/conf.yaml"));
  assert.equal(f.path, join(dir, "dapr.yaml"));

  const missing = layout(`version: 1\ncommon: {configFilePath: nope.yaml}\napps:\n  - appDirPath: ./gone\n  - appDirPath: .\n    resourcesPaths: [./r]\n  - {appID: x}\n`);
  fails(
    () => loadRunFile(join(missing, "dapr.yaml"), home, {}),
    /common\.configFilePath: .*nope\.yaml does not exist/,
    /apps\[0\]\.appDirPath: .*gone does not exist/,
    /apps\[1\]\.resourcesPaths\[0\]: .*r does not exist/,
    /apps\[2\]\.appDirPath: required/,
  );
});

test("cli - run file ~ expands to the home directory", () => {
  const user = join(root, "user");
  mkdirSync(join(user, "svc"), { recursive: true });
  const dir = layout("version: 1\napps:\n  - appDirPath: ~/svc\n");
  assert.equal(loadRunFile(join(dir, "dapr.yaml"), home, { HOME: user }).apps[0]?.appDirPath, join(user, "svc"));
});

test("cli - run file resources: app paths > <appDir>/.dapr/resources > common > $TANDEM_HOME/components", () => {
  const dir = layout(
    `version: 1
common: {resourcesPaths: [./common-res]}
apps:
  - {appID: own, appDirPath: ./a, resourcesPaths: [./res]}
  - {appID: local, appDirPath: ./b}
  - {appID: common, appDirPath: ./c}
`,
    ["common-res", "a/res", "a/.dapr/resources", "b/.dapr/resources", "c"],
  );
  const f = loadRunFile(join(dir, "dapr.yaml"), home, {});
  assert.deepEqual(f.apps.map((a) => a.spec.resourcesPaths), [[join(dir, "a/res")], [join(dir, "b/.dapr/resources")], [join(dir, "common-res")]]);
  assert.equal(f.defaultResources, false);

  const bare = layout("version: 1\napps:\n  - appDirPath: ./d\n", ["d"]);
  const g = loadRunFile(join(bare, "dapr.yaml"), home, {});
  assert.deepEqual(g.apps[0]?.spec.resourcesPaths, [join(home, "components")]);
  assert.equal(g.defaultResources, true);
});

test("cli - run file config: app > <appDir>/.dapr/config.yaml > common > $TANDEM_HOME/config.yaml", () => {
  const dir = layout(
    `version: 1
common: {configFilePath: ./common.yaml}
apps:
  - {appID: own, appDirPath: ./a, configFilePath: ./mine.yaml}
  - {appID: local, appDirPath: ./b}
  - {appID: common, appDirPath: ./c}
`,
    ["a", "b/.dapr", "c"],
    ["common.yaml", "a/mine.yaml", "b/.dapr/config.yaml"],
  );
  const f = loadRunFile(join(dir, "dapr.yaml"), home, {});
  assert.deepEqual(f.apps.map((a) => a.spec.configFile), [join(dir, "a/mine.yaml"), join(dir, "b/.dapr/config.yaml"), join(dir, "common.yaml")]);
  assert.equal(f.defaultConfig, false);
  const bare = layout("version: 1\napps:\n  - appDirPath: .\n");
  const g = loadRunFile(join(bare, "dapr.yaml"), home, {});
  assert.equal(g.apps[0]?.spec.configFile, join(home, "config.yaml"));
  assert.equal(g.defaultConfig, true);
});

test("cli - run file common fills only zero-valued app fields; env merges key by key, app wins", () => {
  const dir = layout(
    `version: 1
common:
  appProtocol: grpc
  logLevel: debug
  enableApiLogging: true
  appMaxConcurrency: 5
  maxBodySize: 8Mi
  env: {A: common, B: common}
apps:
  - appDirPath: ./orders
    appProtocol: http
    appMaxConcurrency: 2
    env: {B: app, C: app}
  - appDirPath: ./billing
    enableApiLogging: false
`,
    ["orders", "billing"],
  );
  const [orders, billing] = loadRunFile(join(dir, "dapr.yaml"), home, {}).apps;
  assert.equal(orders?.spec.appProtocol, "http");
  assert.equal(orders?.spec.appMaxConcurrency, 2);
  assert.equal(orders?.spec.logLevel, "debug");
  assert.equal(orders?.spec.maxBodySize, "8Mi");
  assert.deepEqual(orders?.spec.env, { A: "common", B: "app", C: "app" });
  assert.equal(billing?.spec.appProtocol, "grpc");
  assert.equal(billing?.spec.enableApiLogging, true, "false is Go's zero value: common fills it, as dapr does");
  assert.deepEqual(billing?.spec.env, { A: "common", B: "common" });
});

test("cli - run file defaults: app id from appDirPath, log destinations, ports left to the CLI", () => {
  const dir = layout("version: 1\napps:\n  - appDirPath: ./orders/\n    daprHTTPPort: -1\n    appPort: 0\n  - {appID: b, appDirPath: ./b, appLogDestination: console, daprdLogDestination: fileAndConsole}\n", ["orders", "b"]);
  const [a, b] = loadRunFile(join(dir, "dapr.yaml"), home, {}).apps;
  assert.equal(a?.spec.appId, "orders");
  assert.equal(a?.appLogDestination, "fileAndConsole");
  assert.equal(a?.daprdLogDestination, "file");
  assert.equal(a?.spec.daprHttpPort, undefined);
  assert.equal(a?.spec.appPort, undefined);
  assert.deepEqual(a?.spec.command, []);
  assert.equal(b?.appLogDestination, "console");
  assert.equal(b?.daprdLogDestination, "fileAndConsole");
});

test("cli - run file app ids must be unique", () => {
  const dir = layout("version: 1\napps:\n  - {appDirPath: ./x/svc}\n  - {appDirPath: ./y/svc}\n", ["x/svc", "y/svc"]);
  fails(() => loadRunFile(join(dir, "dapr.yaml"), home, {}), /app id "svc" is used twice/);
});

test("cli - run file -f accepts a file or a directory holding dapr.yaml", () => {
  const dir = layout("version: 1\napps: [{appDirPath: .}]\n");
  assert.equal(runFilePath(dir, "/", {}), join(dir, "dapr.yaml"));
  assert.equal(runFilePath("dapr.yaml", dir, {}), join(dir, "dapr.yaml"));
  fails(() => runFilePath(join(dir, "nope.yaml"), "/", {}), /does not exist/);
  fails(() => runFilePath(root, "/", {}), /no dapr\.yaml in directory/);
});
