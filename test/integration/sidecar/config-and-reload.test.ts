/** Integration: Configuration API rules, Unix domain sockets, CORS, and hot reload of components. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { request } from "node:http";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { component, startSidecar, waitUntil } from "../../harness/sidecar.js";

test("sidecar - Configuration api.denied removes routes; the health routes stay", async () => {
  const sc = await startSidecar({
    resources: { "mem.yaml": component("mem", "state.in-memory") },
    config: `apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata: {name: cfg}
spec:
  api:
    denied:
    - {name: state, version: v1, protocol: http}
`,
  });
  try {
    const r = await fetch(sc.url + "/v1.0/state/mem/k");
    assert.equal(r.status, 404);
    assert.equal(((await r.json()) as { errorCode: string }).errorCode, "ERR_DIRECT_INVOKE");
    assert.equal((await fetch(sc.url + "/v1.0/metadata")).status, 200);
    assert.equal((await fetch(sc.url + "/v1.0/healthz")).status, 204);
  } finally {
    await sc.stop();
  }
});

test("sidecar - --unix-domain-socket serves the HTTP API on dapr-<appId>-http.socket", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tandem-uds-"));
  const sc = await startSidecar({ appId: "uds", args: ["--unix-domain-socket", dir], waitFor: "none" });
  const get = (path: string) =>
    new Promise<number>((resolve) => {
      const req = request({ socketPath: join(dir, "dapr-uds-http.socket"), path }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", () => resolve(0));
      req.end();
    });
  try {
    await waitUntil(async () => (await get("/v1.0/healthz")) === 204, sc.exited, 10_000, sc.output);
    assert.equal(await get("/v1.0/metadata"), 200);
  } finally {
    await sc.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("sidecar - --allowed-origins answers CORS preflights", async () => {
  const sc = await startSidecar({ args: ["--allowed-origins", "http://ui.example"] });
  try {
    const r = await fetch(sc.url + "/v1.0/metadata", { method: "OPTIONS", headers: { origin: "http://ui.example", "access-control-request-method": "GET" } });
    assert.equal(r.status, 204);
    assert.equal(r.headers.get("access-control-allow-origin"), "http://ui.example");
    const other = await fetch(sc.url + "/v1.0/metadata", { headers: { origin: "http://evil.example" } });
    assert.equal(other.headers.get("access-control-allow-origin"), null);
  } finally {
    await sc.stop();
  }
});

test("sidecar - hot reload adds, keeps on a bad file, and removes components", async () => {
  const sc = await startSidecar({ resources: { "mem.yaml": component("mem", "state.in-memory") } });
  const names = async () => ((await (await fetch(sc.url + "/v1.0/metadata")).json()) as { components?: { name: string }[] }).components?.map((c) => c.name).sort() ?? [];
  const dir = join(sc.dir, "resources");
  try {
    writeFileSync(join(dir, "mem2.yaml"), component("mem2", "state.in-memory"));
    await waitUntil(async () => (await names()).includes("mem2"), sc.exited, 10_000, sc.output);
    const save = await fetch(sc.url + "/v1.0/state/mem2", { method: "POST", body: JSON.stringify([{ key: "k", value: 1 }]) });
    assert.equal(save.status, 204);

    writeFileSync(join(dir, "bad.yaml"), "kind: Component\nmetadata: {name: [\n");
    await waitUntil(() => Promise.resolve(sc.output().includes("the running configuration is kept")), sc.exited, 10_000, sc.output);
    assert.deepEqual(await names(), ["mem", "mem2"]);

    rmSync(join(dir, "bad.yaml"));
    rmSync(join(dir, "mem2.yaml"));
    await waitUntil(async () => !(await names()).includes("mem2"), sc.exited, 10_000, sc.output);
    assert.deepEqual(await names(), ["mem"]);
  } finally {
    await sc.stop();
  }
});
