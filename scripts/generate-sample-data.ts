// Writes the committed sample: seeded GBM prices for BTC-USD and ETH-USD on two venues that drift
// apart and back (OU divergence with occasional jumps), one L1 quote per venue/symbol per second.
// Usage: npx tsx scripts/generate-sample-data.ts [--out data/sample-l1.csv] [--seed 42] [--steps 1000]
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { quotesToCsv } from "../lib/backtest/csv";
import { syntheticQuotes } from "../lib/backtest/synthetic";

const { values } = parseArgs({
  options: {
    out: { type: "string", default: "data/sample-l1.csv" },
    seed: { type: "string", default: "42" },
    steps: { type: "string", default: "1000" },
    "step-ms": { type: "string", default: "1000" },
  },
});
const int = (name: string, v: string): number => {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n <= 0) {
    console.error(`generate-sample-data: --${name}=${JSON.stringify(v)}: expected a positive integer`);
    process.exit(1);
  }
  return n;
};
const csv = quotesToCsv(
  syntheticQuotes({
    seed: int("seed", values.seed),
    steps: int("steps", values.steps),
    stepMs: int("step-ms", values["step-ms"]),
  }),
);
writeFileSync(values.out, csv);
console.log(`${values.out}: ${csv.split("\n").length - 2} rows, ${csv.length} bytes`);
