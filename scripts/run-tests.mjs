// Runs the test tiers with node's test runner (TypeScript through tsx) and fails a run that executed no test.
// Usage: node scripts/run-tests.mjs [unit|conformance|integration|e2e ...]   (default: every tier)
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync, rmSync } from "node:fs";
import { join, relative } from "node:path";
import { tmpdir } from "node:os";

const root = new URL("..", import.meta.url).pathname;
const tiers = {
  unit: ["src"],
  conformance: ["test/conformance"],
  integration: ["test/integration"],
  e2e: ["e2e"],
};
const wanted = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const extra = process.argv.slice(2).filter((a) => a.startsWith("-"));
const chosen = wanted.length > 0 ? wanted : Object.keys(tiers);

function testFiles(dir) {
  const out = [];
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    if (name === "node_modules") continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...testFiles(path));
    else if (name.endsWith(".test.ts")) out.push(path);
  }
  return out;
}

const files = [];
for (const tier of chosen) {
  if (!tiers[tier]) {
    console.error(`unknown tier ${tier}; known: ${Object.keys(tiers).join(", ")}`);
    process.exit(2);
  }
  for (const dir of tiers[tier]) files.push(...testFiles(join(root, dir)).map((f) => relative(root, f)));
}
if (files.length === 0) {
  console.error("no test files found: a run that executes no test is a failure");
  process.exit(1);
}
const summaryFile = join(tmpdir(), `tandem-test-summary-${process.pid}.json`);
const result = spawnSync(
  process.execPath,
  [
    "--import", "tsx",
    "--test",
    "--test-concurrency=4",
    // Per test file under process isolation: the kill tests (10,000 messages, a broker or sidecar
    // killed mid-stream) take minutes on a loaded 2-core machine.
    "--test-timeout=600000",
    "--test-reporter=spec", "--test-reporter-destination=stdout",
    "--test-reporter=./scripts/summary-reporter.mjs", "--test-reporter-destination=stdout",
    ...extra,
    ...files,
  ],
  { cwd: root, stdio: "inherit", env: { ...process.env, TANDEM_TEST_SUMMARY: summaryFile } },
);
let total = 0;
try {
  const s = JSON.parse(readFileSync(summaryFile, "utf8"));
  total = s.passed + s.failed;
  rmSync(summaryFile);
} catch {
  /* no summary: treated as no test run */
}
if (total === 0) {
  console.error("no test was executed: failing the run");
  process.exit(1);
}
process.exit(result.status ?? 1);
