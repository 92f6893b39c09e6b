// `tse start` (= `npm start`): the local trading session. See docs/session-and-cli.md.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Command } from "commander";
import { checkUses, layeredDocument, loadConfigFile, loadStrategyModules } from "../../lib/config/engineConfig";
import { Decimal } from "../../lib/domain/decimal";
import { formatSharpeSummary } from "../../lib/report/format";
import type { DenialsByPath } from "../../lib/report/reportSchema";
import { startTracing, tracing } from "../../lib/telemetry/tracing";
import { LocalSession } from "../../session/LocalSession";
import { SessionAbortedError } from "../../session/LocalStackWatch";
import { parseSessionFlags, type RawSessionFlags, SessionOptionError } from "../../session/options";
import { denialSummary } from "../../session/sessionReport";
import { TerminalView } from "../../session/terminalView";
import { SCENARIO_NAMES } from "../../sim/market-data/MarketSimulation";

const collect = (v: string, prev: string[] = []) => [...prev, v];
/** Display only (report.json keeps the exact decimals). */
const usd = (x: string) => new Decimal(x).toDecimalPlaces(2).toFixed(2);

export function registerStartCommand(program: Command): Command {
  return program
    .command("start")
    .description(
      "run a local trading session: simulators, the quoter, the four functions, a live dashboard; writes a report on exit",
    )
    .option("--duration <s>", "stop after this many seconds (default: until Ctrl-C)")
    .option("--scenario <name>", `market scenario: ${SCENARIO_NAMES.join(", ")}`, "DIVERGENCE")
    .option("--seed <n>", "seed of the simulated markets", "1")
    .option("--strategy <name>", "strategy to run (repeatable; default market-making + arbitrage)", collect)
    .option("--aws <where>", '"local": LocalStack DynamoDB + EventBridge through the function host')
    .option("--out <dir>", "report directory (default reports/<run-id>/)")
    .option(
      "--market-data <host:port>",
      "an external market-data service (upstream marketdata.MarketDataService) instead of our simulator",
    )
    .option(
      "--synthetic-half-spread-bps <n>",
      "with --market-data: half-spread of the L1 synthesized around a price-only feed (default 5)",
    )
    .option("--ephemeral-ports", "every listener on an ephemeral port (CI, several sessions side by side)")
    .option(
      "--config <file>",
      "configuration file (YAML or JSON, docs/configuration.md) over config/defaults.yaml: risk limits, strategy configs",
    )
    .option("--strategy-module <file>", "load a strategy plug-in from this file (repeatable)", collect)
    .addHelpText(
      "after",
      `
Examples:
  $ npm start                                        # until Ctrl-C, DIVERGENCE, seed 1
  $ npm start -- --duration 60 --scenario DIVERGENCE
  $ tse start --scenario VOLATILITY_SPIKE --seed 7 --strategy market-making
  $ tse start --aws local --duration 120 --out reports/ls-run
  $ tse start --duration 30 --market-data 127.0.0.1:50051   # an upstream market-data-simulator-go
  $ tse start --config my-run.yaml --duration 60               # the same file tse backtest and tse synth take
  $ tse start --strategy spread-joiner --strategy-module examples/strategies/spreadJoiner.ts

It prints the dashboard URL at start, a live view (TTY) or a line every 5 s, and the report path on exit.
Ports: engine 50057 (gRPC) / 8087 (HTTP), dashboard 8088, simulators 50054-50058 + 50090;
a busy port falls back to an ephemeral one (printed). Docs: docs/session-and-cli.md`,
    )
    .action(
      async (flags: RawSessionFlags & { ephemeralPorts?: boolean; config?: string; strategyModule?: string[] }) => {
        let configFile: string | undefined;
        try {
          // Plug-ins first: --strategy names are checked against the registry.
          const cfg = flags.config ? loadConfigFile(flags.config) : undefined;
          if (cfg?.notice) console.error(`tse start: ${cfg.notice}`);
          await loadStrategyModules([...(flags.strategyModule ?? []), ...(cfg?.strategyModules ?? [])]);
          if (cfg) {
            checkUses(cfg);
            // The session's configuration service is seeded with config/defaults.yaml with this file over it.
            configFile = join(mkdtempSync(join(tmpdir(), "tse-config-")), "config.json");
            writeFileSync(configFile, JSON.stringify(layeredDocument([cfg])));
            process.once("exit", () => rmSync(configFile!, { force: true }));
          }
        } catch (e) {
          console.error(`tse start: ${e instanceof Error ? e.message : String(e)}`);
          process.exitCode = 1;
          return;
        }
        let opts: ReturnType<typeof parseSessionFlags>;
        try {
          opts = parseSessionFlags(flags);
        } catch (e) {
          console.error(`tse start: ${e instanceof SessionOptionError ? e.message : String(e)}`);
          process.exitCode = 2;
          return;
        }
        const log = (l: string) => process.stderr.write(`${l}\n`);
        let session: LocalSession;
        try {
          log(
            `tse start: ${opts.mode} mode, ${opts.marketData ? `market data from ${opts.marketData.endpoint}` : `scenario ${opts.scenario}`}, seed ${opts.seed}, strategies ${opts.strategies.join(", ")}` +
              (flags.config ? `, config ${flags.config} over config/defaults.yaml` : ""),
          );
          // OTEL_* configure it; the quoter, simulators and functions in this process each keep their service.name.
          await startTracing("tse-session");
          session = await LocalSession.start({
            ...opts,
            log,
            ...(flags.ephemeralPorts ? { ephemeralPorts: true } : {}),
            ...(configFile ? { configFile } : {}),
          });
        } catch (e) {
          console.error(`tse start: could not start the session: ${e instanceof Error ? e.message : String(e)}`);
          process.exitCode = 1;
          return;
        }
        const ep = session.endpoints;
        log(`dashboard: ${ep.dashboard}`);
        // Printed once; the file (mode 0600) is what scripts and grpcurl read.
        log(
          `engine control token: ${session.controlToken} (in ${ep.controlTokenFile}; TLS certificate ${ep.controlCertFile})`,
        );
        log(
          `engine control API ${ep.engine}, health/metrics ${ep.http}/health ${ep.http}/metrics; ` +
            `simulators ${Object.entries(ep.simulators)
              .map(([k, v]) => `${k}=${v}`)
              .join(" ")}${ep.localstack ? `; localstack ${ep.localstack}` : ""}`,
        );
        const view = new TerminalView(process.stdout);
        const started = Date.now();
        session.onSample((snap) => {
          const c = session.counts();
          view.update(snap, {
            elapsedS: (Date.now() - started) / 1000,
            ...(opts.durationS !== undefined ? { durationS: opts.durationS } : {}),
            fillsByBook: session.fillsPerBook(),
            tradesByStrategy: session.trades(),
            dashboardUrl: ep.dashboardBase,
            counts: {
              ordersAtExchange: c.ordersAtExchange,
              withoutRiskCheck: c.ordersWithoutRiskCheck,
              positionChanged: c.positionChanged,
              riskReports: c.riskPositionReports,
            },
          });
        });
        const done = new Promise<string>((resolve) => {
          process.once("SIGINT", () => resolve("SIGINT"));
          process.once("SIGTERM", () => resolve("SIGTERM"));
          if (opts.durationS !== undefined)
            setTimeout(() => resolve(`duration ${opts.durationS}s`), opts.durationS * 1000).unref();
          void session.failure.then((e) => resolve(e.name));
        });
        const why = await done;
        // A second Ctrl-C while stopping exits at once.
        process.once("SIGINT", () => process.exit(130));
        try {
          const r = await session.stop(why);
          const m = r.report.metrics;
          const by = Object.entries(r.tradesByStrategy)
            .map(([k, v]) => `${k} ${v}`)
            .join(", ");
          log(
            `session: ${m.tradeCount} trades (${by || "none"}), total PnL ${usd(m.totalPnl)} (realized ${usd(m.realizedPnl)}, ` +
              `unrealized ${usd(m.unrealizedPnl)}, fees ${usd(m.fees)}), max drawdown ${m.maxDrawdownPct.toFixed(3)}%, ` +
              `${formatSharpeSummary(m)}, risk ${r.report.risk?.finalState ?? "ACTIVE"}, ` +
              `denials ${r.report.risk ? denialSummary(r.report.risk.denials as DenialsByPath) : "none"}`,
          );
          log(
            `checks: orders at exchange ${r.counts.ordersAtExchange}, without risk check ${r.counts.ordersWithoutRiskCheck}; ` +
              `PositionChanged ${r.counts.positionChanged}, risk monitor position reports ${r.counts.riskPositionReports}; ` +
              `reconciliation ${r.reconciliation.map((x) => `${x.symbol} diff ${x.diff}`).join(", ")}; ` +
              `dead letters ${r.counts.deadLetters}`,
          );
          const st = r.custody.settlement;
          log(
            `custodian: settlements ${st.instructed} instructed, ${st.settled} settled, ${st.failed} failed, ${st.pending} pending; ` +
              `reconciliation ${r.custody.reconciliation.runs} runs, ${r.custody.reconciliation.breaks} breaks in the last` +
              (r.custody.unsettledFills.length > 0
                ? `; ${r.custody.unsettledFills.length} fill(s) never instructed`
                : ""),
          );
          log(
            `functions: ${Object.entries(r.functionLatency)
              .map(([k, v]) => `${k} ${v.invocations}x p50 ${v.p50Ms} ms p99 ${v.p99Ms} ms`)
              .join(", ")}`,
          );
          log(`configuration: ${r.configGetValueCalls} GetValue call(s)`);
          log(`report: ${r.htmlPath}`);
          await tracing()
            .shutdown()
            .catch((e: unknown) => log(`tracing: flush failed: ${e instanceof Error ? e.message : String(e)}`));
          console.log(r.reportPath);
          process.exit(0);
        } catch (e) {
          // SessionAbortedError: LocalStack lost the session's state (or stayed down); its message says what and what is left.
          const what =
            e instanceof SessionAbortedError
              ? e.message
              : `stopping failed: ${e instanceof Error ? e.message : String(e)}`;
          console.error(`tse start: ${what}`);
          process.exit(1);
        }
      },
    );
}
