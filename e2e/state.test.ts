/**
 * End to end: the official `@dapr/dapr` DaprClient (HTTP), unchanged, against a real Tandem sidecar,
 * over both state.in-memory and state.sqlite — save/get/bulk/delete/transaction/query and the
 * errors the SDK surfaces for bad input.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { StateConcurrencyEnum, StateConsistencyEnum, type DaprClient } from "@dapr/dapr";
import { component, startSidecar, type SidecarProcess } from "../test/harness/sidecar.js";
import { errorText, eventually, sdkClient, sdkFailure, uniqueKey } from "./support/sdk.js";

interface BulkItem {
  key: string;
  data?: unknown;
  etag?: string;
}

let sc: SidecarProcess;
let client: DaprClient;

before(async () => {
  sc = await startSidecar({
    appId: "e2e-state",
    resources: {
      "mem.yaml": component("mem", "state.in-memory"),
      // Relative to the sidecar's cwd, its private temp dir.
      "sql.yaml": component("sql", "state.sqlite", { connectionString: "state.db" }),
    },
  });
  client = sdkClient(sc.httpPort);
});

after(async () => {
  await client.stop();
  await sc.stop();
});

/** The current ETag of `key`: the SDK's `get` returns only the value over HTTP, `getBulk` carries ETags. */
async function etagOf(store: string, key: string): Promise<string> {
  const [item] = (await client.state.getBulk(store, [key])) as BulkItem[];
  assert.equal(item?.key, key);
  assert.ok(item.etag, `no etag for ${key}: ${JSON.stringify(item)}`);
  return item.etag;
}

/**
 * On the wire (and in daprd) a transaction item's `etag` is a JSON string, as in `save`; the SDK's
 * `IRequest` type declares it as `{ value }` (IEtag) but sends whatever it is given unchanged.
 * See e2e/EXCLUSIONS.md.
 */
function withEtag<T extends object>(request: T, etag: string): T {
  return Object.assign({}, request, { etag });
}

for (const store of ["mem", "sql"]) {
  describe(`@dapr/dapr DaprClient state on ${store === "mem" ? "state.in-memory" : "state.sqlite"}`, () => {
    test(`state - save and get objects, strings, numbers and arrays (${store})`, async () => {
      const k = uniqueKey("v");
      const saved = await client.state.save(store, [
        { key: `${k}-obj`, value: { name: "Ada", langs: ["en", "fr"], n: 1.5 } },
        { key: `${k}-str`, value: "plain text" },
        { key: `${k}-num`, value: 42 },
        { key: `${k}-arr`, value: [1, { two: 2 }] },
      ]);
      assert.deepEqual(saved, {});
      assert.deepEqual(await client.state.get(store, `${k}-obj`), { name: "Ada", langs: ["en", "fr"], n: 1.5 });
      assert.equal(await client.state.get(store, `${k}-str`), "plain text");
      assert.equal(await client.state.get(store, `${k}-num`), 42);
      assert.deepEqual(await client.state.get(store, `${k}-arr`), [1, { two: 2 }]);
      // A missing key is a 204 with an empty body, which the SDK hands back as "".
      assert.equal(await client.state.get(store, `${k}-missing`), "");
    });

    test(`state - save and get pass consistency options and overwrite last-write (${store})`, async () => {
      const k = uniqueKey("c");
      await client.state.save(store, [{ key: k, value: { v: 1 }, options: { consistency: StateConsistencyEnum.CONSISTENCY_STRONG, concurrency: StateConcurrencyEnum.CONCURRENCY_LAST_WRITE } }]);
      const second = await client.state.save(store, [{ key: k, value: { v: 2 }, options: { consistency: StateConsistencyEnum.CONSISTENCY_EVENTUAL, concurrency: StateConcurrencyEnum.CONCURRENCY_LAST_WRITE } }]);
      assert.equal(second.error, undefined);
      assert.deepEqual(await client.state.get(store, k, { consistency: StateConsistencyEnum.CONSISTENCY_STRONG }), { v: 2 });
    });

    test(`state - save with the current ETag succeeds, with a stale one the SDK returns ERR_STATE_SAVE (${store})`, async () => {
      const k = uniqueKey("e");
      await client.state.save(store, [{ key: k, value: "first" }]);
      const etag1 = await etagOf(store, k);
      assert.deepEqual(await client.state.save(store, [{ key: k, value: "second", etag: etag1 }]), {});
      const etag2 = await etagOf(store, k);
      assert.notEqual(etag2, etag1);
      assert.equal(await client.state.get(store, k), "second");

      // The SDK's save does not throw: it resolves with { error }.
      const stale = await client.state.save(store, [{ key: k, value: "third", etag: etag1 }]);
      assert.ok(stale.error, "a stale ETag must fail");
      const f = sdkFailure(stale.error);
      assert.equal(f.status, 409, f.text);
      assert.equal(f.errorCode, "ERR_STATE_SAVE", f.text);
      assert.match(f.text, /possible etag mismatch/);
      assert.equal(await client.state.get(store, k), "second");
    });

    test(`state - first-write without an ETag fails on an existing key (${store})`, async () => {
      const k = uniqueKey("fw");
      const created = await client.state.save(store, [{ key: k, value: 1, options: { concurrency: StateConcurrencyEnum.CONCURRENCY_FIRST_WRITE, consistency: StateConsistencyEnum.CONSISTENCY_STRONG } }]);
      assert.equal(created.error, undefined, created.error ? errorText(created.error) : "");
      const again = await client.state.save(store, [{ key: k, value: 2, options: { concurrency: StateConcurrencyEnum.CONCURRENCY_FIRST_WRITE, consistency: StateConsistencyEnum.CONSISTENCY_STRONG } }]);
      const f = sdkFailure(again.error);
      assert.equal(f.status, 409, f.text);
      assert.equal(f.errorCode, "ERR_STATE_SAVE", f.text);
      assert.equal(await client.state.get(store, k), 1);
    });

    test(`state - save with ttlInSeconds metadata expires the value (${store})`, async () => {
      const k = uniqueKey("ttl");
      // Request-level metadata (the SDK sends it as metadata.ttlInSeconds query parameters).
      assert.deepEqual(await client.state.save(store, [{ key: `${k}-short`, value: "gone soon" }], { metadata: { ttlInSeconds: "1" } }), {});
      // Item-level metadata, in the body.
      assert.deepEqual(await client.state.save(store, [{ key: `${k}-long`, value: "stays", metadata: { ttlInSeconds: "3600" } }]), {});
      assert.deepEqual(await client.state.save(store, [{ key: `${k}-never`, value: "forever", metadata: { ttlInSeconds: "-1" } }]), {});
      await eventually(async () => (await client.state.get(store, `${k}-short`)) === "", 10_000, `${k}-short to expire`);
      assert.equal(await client.state.get(store, `${k}-long`), "stays");
      assert.equal(await client.state.get(store, `${k}-never`), "forever");

      const bad = await client.state.save(store, [{ key: `${k}-bad`, value: 1 }], { metadata: { ttlInSeconds: "soon" } });
      // As daprd: the store rejects the value (components-contrib's ParseTTL message) -> 500 ERR_STATE_SAVE.
      const f = sdkFailure(bad.error);
      assert.equal(f.status, 500, f.text);
      assert.equal(f.errorCode, "ERR_STATE_SAVE", f.text);
      assert.match(f.text, /incorrect value for metadata ttlInSeconds: soon/);
    });

    test(`state - getBulk returns values and ETags, and missing keys without data (${store})`, async () => {
      const k = uniqueKey("b");
      await client.state.save(store, [
        { key: `${k}-1`, value: { n: 1 } },
        { key: `${k}-2`, value: "two" },
      ]);
      const items = (await client.state.getBulk(store, [`${k}-1`, `${k}-2`, `${k}-missing`], { parallelism: 2 })) as BulkItem[];
      assert.equal(items.length, 3);
      const byKey = new Map(items.map((i) => [i.key, i]));
      assert.deepEqual(byKey.get(`${k}-1`)?.data, { n: 1 });
      assert.equal(byKey.get(`${k}-2`)?.data, "two");
      assert.ok(byKey.get(`${k}-1`)?.etag);
      const missing = byKey.get(`${k}-missing`);
      assert.ok(missing);
      assert.equal(missing.data, undefined);
      assert.deepEqual(await client.state.getBulk(store, []), []);
    });

    test(`state - delete with a stale ETag fails with ERR_STATE_DELETE, with the current one deletes (${store})`, async () => {
      const k = uniqueKey("d");
      await client.state.save(store, [{ key: k, value: "v1" }]);
      const old = await etagOf(store, k);
      await client.state.save(store, [{ key: k, value: "v2" }]);
      const current = await etagOf(store, k);

      const stale = await client.state.delete(store, k, { etag: old });
      const f = sdkFailure(stale.error);
      assert.equal(f.status, 409, f.text);
      assert.equal(f.errorCode, "ERR_STATE_DELETE", f.text);
      assert.equal(await client.state.get(store, k), "v2");

      assert.deepEqual(await client.state.delete(store, k, { etag: current, concurrency: StateConcurrencyEnum.CONCURRENCY_FIRST_WRITE }), {});
      assert.equal(await client.state.get(store, k), "");

      const plain = uniqueKey("d");
      await client.state.save(store, [{ key: plain, value: 1 }]);
      assert.deepEqual(await client.state.delete(store, plain), {});
      assert.equal(await client.state.get(store, plain), "");
      // Deleting a key that is not there is not an error.
      assert.deepEqual(await client.state.delete(store, plain), {});
    });

    test(`state - transaction applies upserts and deletes together (${store})`, async () => {
      const k = uniqueKey("t");
      await client.state.save(store, [
        { key: `${k}-old`, value: "to delete" },
        { key: `${k}-upd`, value: { v: 1 } },
      ]);
      const etag = await etagOf(store, `${k}-upd`);
      await client.state.transaction(store, [
        { operation: "upsert", request: { key: `${k}-new`, value: { created: true } } },
        { operation: "upsert", request: withEtag({ key: `${k}-upd`, value: { v: 2 } }, etag) },
        { operation: "delete", request: { key: `${k}-old` } },
      ]);
      assert.deepEqual(await client.state.get(store, `${k}-new`), { created: true });
      assert.deepEqual(await client.state.get(store, `${k}-upd`), { v: 2 });
      assert.equal(await client.state.get(store, `${k}-old`), "");

      // With transaction-level metadata too.
      await client.state.transaction(store, [{ operation: "delete", request: { key: `${k}-new` } }], { note: "e2e" });
      assert.equal(await client.state.get(store, `${k}-new`), "");
    });

    test(`state - a transaction with a stale ETag throws ERR_STATE_TRANSACTION and applies nothing (${store})`, async () => {
      const k = uniqueKey("tx");
      await client.state.save(store, [{ key: `${k}-a`, value: "a1" }]);
      const stale = await etagOf(store, `${k}-a`);
      await client.state.save(store, [{ key: `${k}-a`, value: "a2" }]);
      await assert.rejects(
        client.state.transaction(store, [
          { operation: "upsert", request: { key: `${k}-b`, value: "b" } },
          { operation: "upsert", request: withEtag({ key: `${k}-a`, value: "a3" }, stale) },
        ]),
        (err: unknown) => {
          const f = sdkFailure(err);
          assert.equal(f.status, 500, f.text);
          assert.equal(f.errorCode, "ERR_STATE_TRANSACTION", f.text);
          return true;
        },
      );
      assert.equal(await client.state.get(store, `${k}-a`), "a2");
      assert.equal(await client.state.get(store, `${k}-b`), "");
    });

    test(`state - query filters, sorts and pages JSON values (${store})`, async () => {
      const run = uniqueKey("q");
      const people = [
        { id: 1036, org: "Dev Ops", state: "CA" },
        { id: 1028, org: "Hardware", state: "WA" },
        { id: 1071, org: "Dev Ops", state: "WA" },
        { id: 1007, org: "Finance", state: "NY" },
        { id: 1002, org: "Dev Ops", state: "CA" },
      ];
      await client.state.save(
        store,
        people.map((p) => ({ key: `${run}-${p.id}`, value: { run, person: { id: p.id, org: p.org }, state: p.state } })),
      );

      // AND + IN, two sort keys, paged two at a time.
      const keys: string[] = [];
      let token: string | undefined;
      let pages = 0;
      do {
        const page = await client.state.query(store, {
          filter: { AND: [{ EQ: { run } }, { IN: { state: ["CA", "WA"] } }] },
          sort: [{ key: "state", order: "DESC" }, { key: "person.id" }],
          page: token === undefined ? { limit: 2 } : { limit: 2, token },
        });
        if (pages === 0) {
          assert.equal(page.results.length, 2);
          assert.ok(page.token, "a first page of a longer result carries a token");
        }
        for (const r of page.results) {
          assert.ok(r.etag, "query results carry ETags");
          keys.push(r.key);
        }
        token = page.results.length > 0 ? page.token : undefined;
        pages++;
        assert.ok(pages <= 4, "paging must end");
      } while (token !== undefined && token !== "");
      assert.deepEqual(keys, [1028, 1071, 1002, 1036].map((id) => `${run}-${id}`));

      // EQ on a nested field, descending.
      const devOps = await client.state.query(store, {
        filter: { AND: [{ EQ: { run } }, { EQ: { "person.org": "Dev Ops" } }] },
        sort: [{ key: "person.id", order: "DESC" }],
        page: { limit: 10 },
      });
      assert.deepEqual(
        devOps.results.map((r) => r.key),
        [1071, 1036, 1002].map((id) => `${run}-${id}`),
      );
      assert.deepEqual(devOps.results[0]?.data, { run, person: { id: 1071, org: "Dev Ops" }, state: "WA" });

      // OR and a range comparison.
      const either = await client.state.query(store, {
        filter: { AND: [{ EQ: { run } }, { OR: [{ EQ: { state: "NY" } }, { GT: { "person.id": 1050 } }] }] },
        sort: [{ key: "person.id" }],
        page: { limit: 10 },
      });
      assert.deepEqual(
        either.results.map((r) => r.key),
        [1007, 1071].map((id) => `${run}-${id}`),
      );

      // Nothing matches: the sidecar answers 204 and the SDK returns no results.
      const none = await client.state.query(store, { filter: { EQ: { run: `${run}-nobody` } }, sort: [], page: { limit: 10 } });
      assert.deepEqual(none.results, []);
    });
  });
}

describe("@dapr/dapr DaprClient state errors", () => {
  const isStoreNotFound = (err: unknown): boolean => {
    const f = sdkFailure(err);
    assert.match(f.text, /ERR_STATE_STORE_NOT_FOUND/);
    assert.equal(f.status, 400, f.text);
    assert.equal(f.errorCode, "ERR_STATE_STORE_NOT_FOUND", f.text);
    return true;
  };

  test("state - an unknown store makes get, getBulk, transaction and query throw ERR_STATE_STORE_NOT_FOUND", async () => {
    await assert.rejects(client.state.get("no-such-store", "k"), isStoreNotFound);
    await assert.rejects(client.state.getBulk("no-such-store", ["k"]), isStoreNotFound);
    await assert.rejects(client.state.transaction("no-such-store", [{ operation: "upsert", request: { key: "k", value: 1 } }]), isStoreNotFound);
    await assert.rejects(client.state.query("no-such-store", { filter: { EQ: { a: 1 } }, sort: [], page: { limit: 1 } }), isStoreNotFound);
  });

  test("state - an unknown store makes save and delete return ERR_STATE_STORE_NOT_FOUND", async () => {
    const saved = await client.state.save("no-such-store", [{ key: "k", value: 1 }]);
    assert.ok(saved.error);
    isStoreNotFound(saved.error);
    const deleted = await client.state.delete("no-such-store", "k");
    assert.ok(deleted.error);
    isStoreNotFound(deleted.error);
  });

  test("state - a key containing || is rejected with ERR_MALFORMED_REQUEST", async () => {
    await assert.rejects(client.state.get("mem", "a||b"), (err: unknown) => {
      const f = sdkFailure(err);
      assert.equal(f.status, 400, f.text);
      assert.equal(f.errorCode, "ERR_MALFORMED_REQUEST", f.text);
      return true;
    });
    const saved = await client.state.save("mem", [{ key: "a||b", value: 1 }]);
    assert.equal(sdkFailure(saved.error).errorCode, "ERR_MALFORMED_REQUEST");
  });

  test("state - a transaction ETag in the SDK-typed { value } form is rejected as malformed (see EXCLUSIONS.md)", async () => {
    const key = uniqueKey("ietag");
    await client.state.save("mem", [{ key, value: 1 }]);
    const etag = await etagOf("mem", key);
    await assert.rejects(client.state.transaction("mem", [{ operation: "upsert", request: { key, value: 2, etag: { value: etag } } }]), (err: unknown) => {
      const f = sdkFailure(err);
      assert.equal(f.status, 400, f.text);
      assert.equal(f.errorCode, "ERR_MALFORMED_REQUEST", f.text);
      assert.match(f.text, /etag must be a string/);
      return true;
    });
    assert.equal(await client.state.get("mem", key), 1);
  });

  test("state - an unknown transaction operation is rejected with ERR_NOT_SUPPORTED_STATE_OPERATION", async () => {
    await assert.rejects(client.state.transaction("mem", [{ operation: "merge", request: { key: uniqueKey("op"), value: 1 } }]), (err: unknown) => {
      const f = sdkFailure(err);
      assert.equal(f.status, 400, f.text);
      assert.equal(f.errorCode, "ERR_NOT_SUPPORTED_STATE_OPERATION", f.text);
      return true;
    });
  });
});
