// Prints "N passed, N failed" from vitest's JSON report; exits 1 if the report is missing or anything failed.
import { existsSync, readFileSync } from "node:fs";

const file = process.argv[2] ?? "test-output/vitest.json";
if (!existsSync(file)) {
  console.log("0 passed, 1 failed");
  console.error(`no vitest JSON report at ${file}: the run did not reach the test runner`);
  process.exit(1);
}
const r = JSON.parse(readFileSync(file, "utf8"));
const passed = r.numPassedTests ?? 0;
// Suites that fail to load count as failures too, so a broken import cannot pass silently.
const brokenFiles = (r.testResults ?? []).filter(
  (f) => f.status === "failed" && (f.assertionResults ?? []).length === 0,
);
const failed = (r.numFailedTests ?? 0) + brokenFiles.length;
const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
