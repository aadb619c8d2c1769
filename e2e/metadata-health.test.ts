/**
 * End to end: the official `@dapr/dapr` DaprClient (HTTP) for metadata, health and sidecar
 * shutdown against real Tandem sidecars. Shutdown uses a sidecar of its own.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { DaprClient } from "@dapr/dapr";
import { component, startSidecar, type SidecarProcess } from "../test/harness/sidecar.js";
import { sdkClient, uniqueKey } from "./support/sdk.js";

interface MetadataComponent {
  name: string;
  type: string;
  version: string;
  capabilities?: string[];
}

describe("@dapr/dapr DaprClient metadata and health", () => {
  let sc: SidecarProcess;
  let client: DaprClient;

  before(async () => {
    sc = await startSidecar({
      appId: "e2e-meta",
      resources: {
        "mem.yaml": component("mem", "state.in-memory"),
        "sql.yaml": component("sql", "state.sqlite", { connectionString: "state.db" }),
      },
    });
    client = sdkClient(sc.httpPort);
  });

  after(async () => {
    await client.stop();
    await sc.stop();
  });

  test("metadata - get reports the app id and the loaded state stores with their capabilities", async () => {
    const md = await client.metadata.get();
    assert.equal(md.id, "e2e-meta");
    const components = md.components as MetadataComponent[];
    const byName = new Map(components.map((c) => [c.name, c]));
    const mem = byName.get("mem");
    const sql = byName.get("sql");
    assert.ok(mem, JSON.stringify(md));
    assert.ok(sql, JSON.stringify(md));
    assert.equal(mem.type, "state.in-memory");
    assert.equal(sql.type, "state.sqlite");
    assert.equal(mem.version, "v1");
    for (const c of [mem, sql]) {
      for (const cap of ["ETAG", "TRANSACTIONAL", "TTL"]) assert.ok(c.capabilities?.includes(cap), `${c.name} lacks ${cap}: ${JSON.stringify(c)}`);
    }
    assert.equal(typeof md.extended.daprRuntimeVersion, "string");
  });

  test("metadata - set stores a value in extended metadata that get returns", async () => {
    const key = uniqueKey("attr");
    assert.equal(await client.metadata.set(key, "some value with spaces"), true);
    let md = await client.metadata.get();
    assert.equal(md.extended[key], "some value with spaces");
    await client.metadata.set(key, "changed");
    md = await client.metadata.get();
    assert.equal(md.extended[key], "changed");
  });

  test("health - isHealthy is true for a running sidecar", async () => {
    assert.equal(await client.health.isHealthy(), true);
  });
});

test("sidecar - shutdown through the SDK stops the sidecar process cleanly", async () => {
  const sc = await startSidecar({ appId: "e2e-shutdown", resources: { "mem.yaml": component("mem", "state.in-memory") } });
  const client = sdkClient(sc.httpPort);
  try {
    assert.equal(await client.health.isHealthy(), true);
    await client.state.save("mem", [{ key: "k", value: 1 }]);
    await client.sidecar.shutdown();
    assert.equal(await sc.exited, 0, sc.output());
    // The client stays initialised, so the probe is a single failed request, not the start-up wait.
    assert.equal(await client.health.isHealthy(), false);
  } finally {
    await client.stop();
    if (sc.child.exitCode === null && sc.child.signalCode === null) await sc.kill();
  }
});
