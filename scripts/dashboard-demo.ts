// Runs the live dashboard against the seeded synthetic session (no engine needed), to look at the
// page or work on its design. Usage: npx tsx scripts/dashboard-demo.ts [--port 8088] [--speed 10] [--seed 7]
// --speed is simulated seconds per wall-clock second. Ctrl-C stops it.
import { Command } from "commander";
import { DashboardState } from "../session/dashboard/DashboardState";
import { startDashboardServer } from "../session/dashboard/server";
import { SyntheticFeed } from "../test/fixtures/syntheticFeed";
import { generateSyntheticRun } from "../test/fixtures/syntheticTrading";

async function main(): Promise<void> {
  const opts = new Command()
    .option("--port <n>", "port (0 = ephemeral)", "0")
    .option("--speed <x>", "simulated seconds per second", "10")
    .option("--seed <n>", "synthetic session seed", "7")
    .parse()
    .opts<{ port: string; speed: string; seed: string }>();
  const speed = Number(opts.speed);
  if (!(speed > 0)) throw new Error(`--speed: expected a positive number, got ${JSON.stringify(opts.speed)}`);
  const run = generateSyntheticRun({ seed: Number(opts.seed), minutes: 120 });
  let simNow = Date.parse(run.report.startedAt);
  const state = new DashboardState({
    clock: () => simNow,
    runId: run.report.meta?.runId ?? "demo",
    mode: "demo",
    scenario: "DIVERGENCE",
    strategies: ["market-making", "arbitrage"],
    onSetTradingState: async (s, reason) => console.log(`[demo] setTradingState(${s}, ${JSON.stringify(reason)})`),
  });
  const feed = new SyntheticFeed(state, run);
  const server = await startDashboardServer({ source: state, port: Number(opts.port) });
  console.log(`dashboard: ${server.url}`);
  const timer = setInterval(() => {
    simNow += speed * 250;
    feed.advanceTo(simNow);
  }, 250);
  const stop = async () => {
    clearInterval(timer);
    await server.close();
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
