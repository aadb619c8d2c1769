import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { parse } from "yaml";
import { ensureDefaults, initHome, tandemHome } from "./home.js";

const root = mkdtempSync(join(tmpdir(), "tandem-homes-"));
after(() => rmSync(root, { recursive: true, force: true }));

test("cli - TANDEM_HOME defaults to ~/.tandem and is made absolute", () => {
  assert.equal(tandemHome({ HOME: "/home/u" }), "/home/u/.tandem");
  assert.equal(tandemHome({ HOME: "/home/u", TANDEM_HOME: "~/t" }), "/home/u/t");
  assert.equal(tandemHome({ TANDEM_HOME: "/x/y" }), "/x/y");
});

test("cli - init writes a sqlite actor state store, the durable local pubsub and a Configuration, then never overwrites them", () => {
  const home = join(root, "init");
  assert.deepEqual(initHome(home).map((s) => s.action), ["created", "created", "created"]);
  const pubsub = parse(readFileSync(join(home, "components", "pubsub.yaml"), "utf8")) as { metadata: { name: string }; spec: { type: string; metadata: { name: string; value: string }[] } };
  assert.equal(pubsub.metadata.name, "pubsub");
  assert.equal(pubsub.spec.type, "pubsub.sqlite");
  assert.deepEqual(pubsub.spec.metadata, [{ name: "connectionString", value: join(home, "pubsub.db") }]);
  const store = parse(readFileSync(join(home, "components", "statestore.yaml"), "utf8")) as {
    kind: string;
    metadata: { name: string };
    spec: { type: string; version: string; metadata: { name: string; value: string }[] };
  };
  assert.equal(store.kind, "Component");
  assert.equal(store.metadata.name, "statestore");
  assert.equal(store.spec.type, "state.sqlite");
  assert.equal(store.spec.version, "v1");
  assert.deepEqual(store.spec.metadata, [
    { name: "connectionString", value: join(home, "state.db") },
    { name: "actorStateStore", value: "true" },
  ]);
  const config = parse(readFileSync(join(home, "config.yaml"), "utf8")) as { kind: string; metadata: { name: string } };
  assert.equal(config.kind, "Configuration");
  assert.equal(config.metadata.name, "daprConfig");

  writeFileSync(join(home, "config.yaml"), "# edited\n");
  unlinkSync(join(home, "components", "statestore.yaml"));
  assert.deepEqual(initHome(home).map((s) => s.action), ["created", "kept", "kept"]);
  assert.equal(readFileSync(join(home, "config.yaml"), "utf8"), "# edited\n");
});

test("cli - run creates only the defaults it uses, and leaves an existing components directory alone", () => {
  const home = join(root, "run");
  assert.deepEqual(ensureDefaults(home, { components: false, config: true }).map((s) => s.path), [join(home, "config.yaml")]);
  assert.deepEqual(ensureDefaults(home, { components: true, config: true }).map((s) => s.path), [join(home, "components", "statestore.yaml"), join(home, "components", "pubsub.yaml")]);
  unlinkSync(join(home, "components", "statestore.yaml"));
  assert.deepEqual(ensureDefaults(home, { components: true, config: true }), []);
});
