import { test } from "node:test";
import assert from "node:assert/strict";
import { formatDuration, parseDuration, parseDurationOrNumber } from "./duration.js";
import { parseQuantity } from "./quantity.js";

test("kit - Go durations parse to milliseconds", () => {
  assert.equal(parseDuration("1m30s"), 90_000);
  assert.equal(parseDuration("500ms"), 500);
  assert.equal(parseDuration("1.5h"), 5_400_000);
  assert.equal(parseDuration("0"), 0);
  assert.equal(parseDuration("-2s"), -2000);
  assert.equal(parseDuration("5"), undefined);
  assert.equal(parseDuration("s"), undefined);
  assert.equal(parseDuration("5x"), undefined);
  assert.equal(parseDurationOrNumber("5", 1000), 5000);
  assert.equal(formatDuration(90_000), "1m30s");
  assert.equal(formatDuration(500), "500ms");
});

test("kit - quantities parse to bytes", () => {
  assert.equal(parseQuantity("4Mi"), 4 * 1024 * 1024);
  assert.equal(parseQuantity("4Ki"), 4096);
  assert.equal(parseQuantity("1G"), 1e9);
  assert.equal(parseQuantity("512"), 512);
  assert.equal(parseQuantity("4 MB"), undefined);
});
