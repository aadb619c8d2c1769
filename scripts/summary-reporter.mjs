// node:test reporter that prints the closing line "N passed, N failed" (and every skip with its reason).
// It also writes the counts to $TANDEM_TEST_SUMMARY so run-tests.mjs can fail a run that executed nothing.
import { writeFileSync } from "node:fs";

export default async function* summary(source) {
  let passed = 0;
  let failed = 0;
  const skipped = [];
  for await (const event of source) {
    if (event.type !== "test:pass" && event.type !== "test:fail") continue;
    const data = event.data;
    if (data.details?.type === "suite") continue;
    if (data.skip !== undefined && data.skip !== false) {
      skipped.push(`${data.name}: ${typeof data.skip === "string" ? data.skip : "no reason given"}`);
      continue;
    }
    if (data.todo !== undefined && data.todo !== false) continue;
    if (event.type === "test:pass") passed++;
    else failed++;
  }
  if (skipped.length > 0) yield `skipped ${skipped.length}:\n${skipped.map((s) => `  - ${s}`).join("\n")}\n`;
  yield `${passed} passed, ${failed} failed\n`;
  if (process.env.TANDEM_TEST_SUMMARY) {
    writeFileSync(process.env.TANDEM_TEST_SUMMARY, JSON.stringify({ passed, failed, skipped: skipped.length }));
  }
}
