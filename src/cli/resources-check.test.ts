import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import type { AppSpec } from "./app-spec.js";
import { CliError } from "./context.js";
import { checkResources } from "./resources-check.js";

const dir = mkdtempSync(join(tmpdir(), "tandem-check-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const component = (name: string) => `apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: ${name}\nspec:\n  type: state.in-memory\n  version: v1\n`;

function spec(resourcesPaths: string[], configFile?: string): AppSpec {
  return {
    appId: "a", command: [], cwd: dir, appProtocol: "http", appChannelAddress: "127.0.0.1", enableProfiling: false,
    resourcesPaths, enableAppHealthCheck: false, enableApiLogging: false, appSsl: false, env: {},
    ...(configFile !== undefined ? { configFile } : {}),
  };
}

const fails = (p: Promise<void>, re: RegExp) => assert.rejects(p, (err: unknown) => err instanceof CliError && re.test(err.message));

test("cli - run checks resources before starting: paths exist, manifests load, no duplicate names", async () => {
  const good = join(dir, "good");
  mkdirSync(good);
  writeFileSync(join(good, "a.yaml"), component("one"));
  writeFileSync(join(dir, "config.yaml"), "");
  await checkResources(spec([good], join(dir, "config.yaml")), {});

  await fails(checkResources(spec([join(dir, "missing")]), {}), /resources path .*missing does not exist/);
  await fails(checkResources(spec([join(good, "a.yaml")]), {}), /is not a directory/);
  await fails(checkResources(spec([good], join(dir, "nope.yaml")), {}), /config file .*nope\.yaml does not exist/);

  const dup = join(dir, "dup");
  mkdirSync(dup);
  writeFileSync(join(dup, "a.yaml"), component("same"));
  writeFileSync(join(dup, "b.yaml"), component("same"));
  await fails(checkResources(spec([dup]), {}), /invalid resources for app a:\n.*b\.yaml/);
});
