import assert from "node:assert/strict";
import { watch } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { deferred, type Deferred } from "../kit/deferred.js";
import { isYamlFile } from "./documents.js";
import { watchResources } from "./watch.js";

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "tandem-watch-"));
  dirs.push(dir);
  return dir;
}

/** Counts calls and hands out a promise for the n-th one. */
function counter(): { onChange: () => void; calls: () => number; nth: (n: number) => Promise<void> } {
  let calls = 0;
  const waiters = new Map<number, Deferred<void>>();
  return {
    onChange: () => {
      calls++;
      waiters.get(calls)?.resolve();
    },
    calls: () => calls,
    nth: (n) => {
      const d = deferred();
      if (calls >= n) d.resolve();
      else waiters.set(n, d);
      return d.promise;
    },
  };
}

test("resources - the watcher calls back once for a burst of YAML writes", async () => {
  const dir = await tempDir();
  const c = counter();
  const watcher = watchResources([dir], c.onChange, { debounceMs: 150 });
  try {
    for (let i = 0; i < 10; i++) await writeFile(join(dir, `c${i % 3}.yaml`), `kind: Component # ${i}\n`);
    await c.nth(1);
    // A later, separate write is the marker: had the burst called back twice, this would be the third.
    await writeFile(join(dir, "marker.yml"), "kind: Component\n");
    await c.nth(2);
    assert.equal(c.calls(), 2);
  } finally {
    watcher.close();
  }
});

test("resources - the watcher ignores files that are not YAML", async () => {
  const dir = await tempDir();
  let yamlWritten = false;
  const first = deferred<boolean>();
  const watcher = watchResources([dir], () => first.resolve(yamlWritten), { debounceMs: 1 });
  // A second watcher on the same directory tells when the non-YAML change has been delivered.
  const seen = deferred();
  const probe = watch(dir, (_event, filename) => {
    if (filename === "editor.yaml.swp") seen.resolve();
  });
  try {
    await writeFile(join(dir, "notes.txt"), "not a resource\n");
    await writeFile(join(dir, "editor.yaml.swp"), "swap\n");
    await seen.promise;
    yamlWritten = true;
    await writeFile(join(dir, "real.yaml"), "kind: Component\n");
    assert.equal(await first.promise, true, "the first call back comes from the YAML file");
  } finally {
    probe.close();
    watcher.close();
  }
  assert.equal(isYamlFile("a.yaml"), true);
  assert.equal(isYamlFile("a.YML"), true);
  assert.equal(isYamlFile("a.yaml.swp"), false);
  assert.equal(isYamlFile("a.yaml~"), false);
});

test("resources - a directory that cannot be watched is reported, not thrown", () => {
  const errors: string[] = [];
  const missing = join(tmpdir(), `tandem-no-such-dir-${process.pid}`);
  const watcher = watchResources([missing], () => {}, { onError: (dir) => errors.push(dir) });
  watcher.close();
  assert.deepEqual(errors, [missing]);
});
