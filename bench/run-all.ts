/**
 * Every benchmark in sequence: start-up, state over HTTP, state on real servers (redis,
 * postgresql v1/v2, mysql, each beside its raw client), then pub/sub (redis beside raw ioredis,
 * then the local pubsub.sqlite). `--quick` runs each one briefly to
 * check the scripts work (its figures mean nothing).
 *
 *   npm run bench                 # build, then the full run (~30 min)
 *   npm run bench -- --quick      # smoke run (~1 min)
 */
import { startupBench } from "./startup.js";
import { stateHttpBench } from "./state-http.js";
import { stateStoresBench } from "./state-stores.js";
import { pubsubBench } from "./pubsub.js";
import { QUICK } from "./lib/results.js";

const benches: [string, () => Promise<boolean>][] = [
  ["startup", startupBench],
  ["state-http", stateHttpBench],
  ["state-stores", stateStoresBench],
  ["pubsub", pubsubBench],
];

const started = performance.now();
const outcome: string[] = [];
let crashed = false;
for (const [name, run] of benches) {
  try {
    outcome.push(`${name}: ${(await run()) ? "all targets met" : "target(s) missed — see the verdicts above"}`);
  } catch (err) {
    crashed = true;
    outcome.push(`${name}: FAILED TO RUN — ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  }
}
console.log(`\n## Summary${QUICK ? " (quick smoke run)" : ""}, ${((performance.now() - started) / 60_000).toFixed(1)} min\n`);
for (const line of outcome) console.log(`- ${line}`);
process.exitCode = crashed ? 1 : 0;
