import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Writable } from "node:stream";
import { test } from "node:test";
import { closeSink, logFileName, pipeLines, sinkFor } from "./output.js";

function collector(): { stream: Writable; text: () => string } {
  let text = "";
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  });
  return { stream, text: () => text };
}

test("cli - output lines are prefixed, split across chunks, and a last partial line is completed", async () => {
  const source = new PassThrough();
  const out = collector();
  const done = pipeLines(source, { prefix: "== APP == " }, out.stream);
  source.write("hel");
  source.write("lo\nwor");
  source.write("ld\r\nlast");
  source.end();
  await done;
  assert.equal(out.text(), "== APP == hello\n== APP == world\n== APP == last\n");
});

test("cli - output to a log file is unprefixed; file-only output stays off the console", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tandem-out-"));
  try {
    const path = logFileName(join(dir, ".dapr", "logs"), "orders", "daprd", new Date(2024, 0, 2, 3, 4, 5));
    assert.equal(path, join(dir, ".dapr", "logs", "orders_daprd_20240102030405.log"));
    for (const [destination, onConsole] of [["file", ""], ["fileAndConsole", "== TANDEM == a\n"]] as const) {
      const sink = sinkFor(destination, "== TANDEM == ", path);
      const source = new PassThrough();
      const out = collector();
      const done = pipeLines(source, sink, out.stream);
      source.end("a\n");
      await done;
      await closeSink(sink);
      assert.equal(out.text(), onConsole);
      assert.equal(sink.filePath, path);
    }
    assert.equal(readFileSync(path, "utf8"), "a\na\n", "appended");
    assert.deepEqual(sinkFor("console", "p", path), { prefix: "p" });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
