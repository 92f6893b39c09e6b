// `npm run bench`: runs every bench/*.bench.ts module and merges its figures into reports/bench.json.
// Each module exports `run(progress): Promise<Record<string, number>>`; figures are medians measured in this run.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "reports", "bench.json");
const only = process.argv.slice(2);
const modules = readdirSync(here)
  .filter((f) => f.endsWith(".bench.ts"))
  .filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)))
  .sort();

const existing: Record<string, unknown> = existsSync(out) ? JSON.parse(readFileSync(out, "utf8")) : {};
const figures: Record<string, unknown> = { ...existing };
for (const file of modules) {
  const started = Date.now();
  console.log(`[bench] ${file} ...`);
  const mod = (await import(pathToFileURL(join(here, file)).href)) as {
    run: (progress: (msg: string) => void) => Promise<Record<string, number>>;
  };
  const result = await mod.run((msg) => console.log(`[bench] ${file}: ${msg}`));
  for (const [k, v] of Object.entries(result)) {
    figures[k] = v;
    console.log(`  ${k} = ${v}`);
  }
  console.log(`[bench] ${file} done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
figures["meta.updated_at"] = new Date().toISOString();
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(figures, null, 2)}\n`);
console.log(`[bench] wrote ${out}`);
