// Writes the committed synthetic L1 + trades tape (gzip): a seeded BTC-USD book with a one-tick spread,
// touch sizes moved by adds, cancels and trades, ~10 % trade prints (lib/backtest/syntheticTape.ts).
// Synthetic, not a market capture. Usage:
//   npx tsx scripts/generate-sample-tape.ts [--out data/sample-tape.csv.gz] [--seed 11] [--events 60000]
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { eventsToCsv } from "../lib/backtest/csv";
import { syntheticTape } from "../lib/backtest/syntheticTape";

const { values } = parseArgs({
  options: {
    out: { type: "string", default: "data/sample-tape.csv.gz" },
    seed: { type: "string", default: "11" },
    events: { type: "string", default: "60000" },
  },
});
const int = (name: string, v: string): number => {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n <= 0) {
    console.error(`generate-sample-tape: --${name}=${JSON.stringify(v)}: expected a positive integer`);
    process.exit(1);
  }
  return n;
};
const csv = eventsToCsv(syntheticTape({ seed: int("seed", values.seed), events: int("events", values.events) }));
// mtime 0 in the gzip header (zlib writes none), so the file is byte-for-byte reproducible.
const gz = gzipSync(csv, { level: 9 });
writeFileSync(values.out, gz);
console.log(`${values.out}: ${csv.split("\n").length - 2} rows, ${csv.length} bytes, ${gz.length} gzipped`);
