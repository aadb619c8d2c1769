/** Integration: the state HTTP API of a real sidecar process, on state.in-memory and state.sqlite. */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { component, startSidecar, type SidecarProcess } from "../../harness/sidecar.js";

let sc: SidecarProcess;

before(async () => {
  sc = await startSidecar({
    appId: "stateapp",
    resources: {
      "mem.yaml": component("mem", "state.in-memory"),
      // The sqlite file lives in the sidecar's temp dir (the process cwd).
      "sql.yaml": component("sql", "state.sqlite", { connectionString: "state.db" }),
    },
  });
});
after(async () => {
  await sc.stop();
});

const req = (path: string, init?: RequestInit) => fetch(sc.url + path, init);
const post = (path: string, body: unknown) => req(path, { method: "POST", headers: { "content-type": "application/json" }, body: typeof body === "string" ? body : JSON.stringify(body) });

for (const store of ["mem", "sql"]) {
  describe(`state over HTTP on ${store}`, () => {
    test(`state - save, get with ETag, delete (${store})`, async () => {
      let r = await post(`/v1.0/state/${store}`, [{ key: "k1", value: { hello: "world" } }, { key: "k2", value: "text" }]);
      assert.equal(r.status, 204);
      r = await req(`/v1.0/state/${store}/k1`);
      assert.equal(r.status, 200);
      assert.equal(r.headers.get("content-type"), "application/json");
      const etag = r.headers.get("etag");
      assert.ok(etag);
      assert.deepEqual(await r.json(), { hello: "world" });
      r = await req(`/v1.0/state/${store}/k2`);
      assert.equal(await r.text(), '"text"');
      r = await req(`/v1.0/state/${store}/k1`, { method: "DELETE", headers: { "if-match": "not-the-etag" } });
      assert.equal(r.status, 409);
      assert.equal(((await r.json()) as { errorCode: string }).errorCode, "ERR_STATE_DELETE");
      r = await req(`/v1.0/state/${store}/k1`, { method: "DELETE", headers: { "if-match": etag } });
      assert.equal(r.status, 204);
      r = await req(`/v1.0/state/${store}/k1`);
      assert.equal(r.status, 204);
      assert.equal(await r.text(), "");
    });

    test(`state - a JSON value is stored as the text received, not re-encoded (${store})`, async () => {
      const value = '{"zeta": 1,  "alpha": [1.50, "<&>"]}';
      const r = await post(`/v1.0/state/${store}`, `[{"key":"verbatim","value":${value}}]`);
      assert.equal(r.status, 204);
      assert.equal(await (await req(`/v1.0/state/${store}/verbatim`)).text(), value);
    });

    test(`state - ETag mismatch on save is 409 ERR_STATE_SAVE (${store})`, async () => {
      await post(`/v1.0/state/${store}`, [{ key: "e1", value: 1 }]);
      const r = await post(`/v1.0/state/${store}`, [{ key: "e1", value: 2, etag: "wrong" }]);
      assert.equal(r.status, 409);
      const body = (await r.json()) as { errorCode: string; message: string };
      assert.equal(body.errorCode, "ERR_STATE_SAVE");
      assert.match(body.message, new RegExp(`^failed saving state in state store ${store}: possible etag mismatch`));
      const fw = await post(`/v1.0/state/${store}`, [{ key: "e1", value: 3, options: { concurrency: "first-write" } }]);
      assert.equal(fw.status, 409);
    });

    test(`state - bulk get returns data, etags and missing keys (${store})`, async () => {
      await post(`/v1.0/state/${store}`, [{ key: "b1", value: { n: 1 } }, { key: "b2", value: [1, 2] }]);
      const r = await post(`/v1.0/state/${store}/bulk`, { keys: ["b1", "b2", "missing"], parallelism: 2 });
      assert.equal(r.status, 200);
      const items = (await r.json()) as { key: string; data?: unknown; etag?: string }[];
      const byKey = new Map(items.map((i) => [i.key, i]));
      assert.deepEqual(byKey.get("b1")?.data, { n: 1 });
      assert.deepEqual(byKey.get("b2")?.data, [1, 2]);
      assert.ok(byKey.get("b1")?.etag);
      assert.deepEqual(byKey.get("missing"), { key: "missing" });
    });

    test(`state - transactions apply all or nothing (${store})`, async () => {
      await post(`/v1.0/state/${store}`, [{ key: "t-del", value: 1 }]);
      let r = await post(`/v1.0/state/${store}/transaction`, {
        operations: [
          { operation: "upsert", request: { key: "t-new", value: { ok: true } } },
          { operation: "delete", request: { key: "t-del" } },
        ],
      });
      assert.equal(r.status, 204);
      assert.equal((await req(`/v1.0/state/${store}/t-del`)).status, 204);
      assert.deepEqual(await (await req(`/v1.0/state/${store}/t-new`)).json(), { ok: true });
      r = await post(`/v1.0/state/${store}/transaction`, {
        operations: [
          { operation: "upsert", request: { key: "t-rollback", value: 1 } },
          { operation: "upsert", request: { key: "t-new", value: 2, etag: "bad-etag" } },
        ],
      });
      assert.equal(r.status, 500);
      assert.equal(((await r.json()) as { errorCode: string }).errorCode, "ERR_STATE_TRANSACTION");
      assert.equal((await req(`/v1.0/state/${store}/t-rollback`)).status, 204);
      r = await post(`/v1.0/state/${store}/transaction`, { operations: [{ operation: "merge", request: { key: "x" } }] });
      assert.equal(r.status, 400);
      assert.deepEqual(await r.json(), { errorCode: "ERR_NOT_SUPPORTED_STATE_OPERATION", message: "operation type merge not supported" });
    });

    test(`state - query and list keys within the app's prefix (${store})`, async () => {
      await post(`/v1.0/state/${store}`, [
        { key: "q-1", value: { city: "Paris", n: 1 } },
        { key: "q-2", value: { city: "Oslo", n: 2 } },
        { key: "q-3", value: { city: "Paris", n: 3 } },
      ]);
      let r = await post(`/v1.0-alpha1/state/${store}/query`, { filter: { EQ: { city: "Paris" } }, sort: [{ key: "n", order: "DESC" }] });
      assert.equal(r.status, 200);
      const body = (await r.json()) as { results: { key: string; data: { n: number }; etag: string }[] };
      assert.deepEqual(body.results.map((x) => x.key), ["q-3", "q-1"]);
      assert.ok(body.results.every((x) => typeof x.etag === "string"));
      r = await post(`/v1.0-alpha1/state/${store}/query`, { filter: { EQ: { city: "Nowhere" } } });
      assert.equal(r.status, 204);
      r = await post(`/v1.0-alpha1/state/${store}/query`, "{not json");
      assert.equal(r.status, 500);
      assert.equal(((await r.json()) as { errorCode: string }).errorCode, "ERR_STATE_QUERY");

      r = await req(`/v1.0-alpha1/state/${store}/keys?prefix=q-&limit=2`);
      assert.equal(r.status, 200);
      const page1 = (await r.json()) as { keys: string[]; token?: string };
      assert.deepEqual(page1.keys, ["q-1", "q-2"]);
      assert.ok(page1.token);
      r = await req(`/v1.0-alpha1/state/${store}/keys?prefix=q-&limit=2&token=${page1.token}`);
      assert.deepEqual(await r.json(), { keys: ["q-3"] });
      r = await req(`/v1.0-alpha1/state/${store}/keys?limit=abc`);
      assert.equal(r.status, 400);
    });

    test(`state - TTL and metadata query parameters (${store})`, async () => {
      const r = await post(`/v1.0/state/${store}?metadata.ttlInSeconds=100`, [{ key: "ttl1", value: 1 }]);
      assert.equal(r.status, 204);
      const g = await req(`/v1.0/state/${store}/ttl1`);
      const expire = g.headers.get("metadata.ttlExpireTime");
      assert.ok(expire, "ttlExpireTime header");
      assert.ok(Math.abs(Date.parse(expire) - (Date.now() + 100_000)) < 5000);
      const bad = await post(`/v1.0/state/${store}`, [{ key: "ttl2", value: 1, metadata: { ttlInSeconds: "-5" } }]);
      assert.equal(bad.status, 500);
      assert.equal(((await bad.json()) as { errorCode: string }).errorCode, "ERR_STATE_SAVE");
    });
  });
}

test("state - unknown store is 400 ERR_STATE_STORE_NOT_FOUND with ErrorInfo", async () => {
  const r = await req("/v1.0/state/nope/k");
  assert.equal(r.status, 400);
  assert.deepEqual(await r.json(), {
    errorCode: "ERR_STATE_STORE_NOT_FOUND",
    message: "state store nope is not found",
    details: [{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "DAPR_STATE_NOT_FOUND", domain: "dapr.io", metadata: { appID: "stateapp" } }],
  });
});

test("state - keys containing || are rejected with DAPR_STATE_ILLEGAL_KEY", async () => {
  const r = await req("/v1.0/state/mem/a||b");
  assert.equal(r.status, 400);
  const body = (await r.json()) as { errorCode: string; details: { reason?: string }[] };
  assert.equal(body.errorCode, "ERR_MALFORMED_REQUEST");
  assert.ok(body.details.some((d) => d.reason === "DAPR_STATE_ILLEGAL_KEY"));
});

test("state - malformed save bodies are 400 ERR_MALFORMED_REQUEST", async () => {
  let r = await post("/v1.0/state/mem", "{oops");
  assert.equal(r.status, 400);
  assert.equal(((await r.json()) as { errorCode: string }).errorCode, "ERR_MALFORMED_REQUEST");
  r = await post("/v1.0/state/mem", [{ value: 1 }]);
  assert.equal(r.status, 400);
  assert.deepEqual(await r.json(), { errorCode: "ERR_MALFORMED_REQUEST", message: '"key" is a required field' });
  r = await post("/v1.0/state/mem", [{ key: "k", value: 1, etag: 5 }]);
  assert.equal(r.status, 400);
  r = await post("/v1.0/state/mem", []);
  assert.equal(r.status, 204);
  r = await post("/v1.0/state/mem/bulk", "[1,2]");
  assert.equal(r.status, 400);
  assert.match(((await r.json()) as { message: string }).message, /^failed deserializing HTTP body: /);
});

test("state - the sqlite file is written in Dapr's layout under the app's key prefix", async () => {
  await post("/v1.0/state/sql", [{ key: "layout", value: { a: 1 } }]);
  const { default: Database } = await import("better-sqlite3");
  const db = new Database(join(sc.dir, "state.db"), { readonly: true });
  try {
    const row = db.prepare("SELECT key, value, is_binary FROM state WHERE key = ?").get("stateapp||layout") as { key: string; value: string; is_binary: number };
    assert.deepEqual(JSON.parse(row.value), { a: 1 });
    assert.equal(row.is_binary, 0);
  } finally {
    db.close();
  }
});
