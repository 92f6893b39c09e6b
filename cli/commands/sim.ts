// `tse sim <exchange|market-data|risk|config|coordinator|custodian|all>`: run peer simulators until SIGTERM/SIGINT.
import { Argument, type Command, InvalidArgumentError, Option } from "commander";
import { DEFAULT_PORTS, runSimulators, SIMULATOR_NAMES, type SimulatorName } from "../../sim/main";
import { parseScenario, SCENARIO_NAMES } from "../../sim/market-data/MarketSimulation";

function int(name: string, min: number, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${name}=${JSON.stringify(v)}: expected an integer ${min}..${max}`);
    }
    return n;
  };
}

function num(name: string, min: number, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${name}=${JSON.stringify(v)}: expected a number ${min}..${max}`);
    }
    return n;
  };
}

interface SimFlags {
  port?: number;
  host: string;
  seed: number;
  scenario?: string;
  model: "gbm" | "mean-reverting";
  tickMs?: number;
  scenarioPaceMs?: number;
  configFile?: string;
  marketDataUrl?: string;
  configUrl?: string;
  env?: string;
  latencyMs?: number;
  rejectionRate?: number;
  spreadMultiplier?: number;
  quiet?: boolean;
  logLevel: "debug" | "info" | "warn" | "error";
  exchangePort?: number;
  marketDataPort?: number;
  riskPort?: number;
  configPort?: number;
  coordinatorPort?: number;
  custodianPort?: number;
  dayMs?: number;
  settleDelayMs?: number;
  settleFailureRate?: number;
  settlePartialRate?: number;
}

const PORT_FLAGS: Record<SimulatorName, keyof SimFlags> = {
  exchange: "exchangePort",
  "market-data": "marketDataPort",
  risk: "riskPort",
  config: "configPort",
  coordinator: "coordinatorPort",
  custodian: "custodianPort",
};

export function registerSimCommand(program: Command): Command {
  const port = int("port", 0, 65535);
  const cmd = program
    .command("sim")
    .description("run peer gRPC simulators (JSON logs on stdout; graceful on SIGTERM)")
    .addArgument(new Argument("<which>", "simulator to run").choices([...SIMULATOR_NAMES, "all"]))
    .option("-p, --port <n>", "port for a single simulator (0 = ephemeral)", port)
    .option("--host <host>", "interface to bind", "127.0.0.1")
    .option("--seed <n>", "seed for prices, liquidity and chaos rejections", int("seed", 0, 2 ** 32 - 1), 1)
    .option("--scenario <name>", `initial market scenario: ${SCENARIO_NAMES.join(", ")}`, (v) => {
      try {
        parseScenario(v);
      } catch (e) {
        throw new InvalidArgumentError((e as Error).message);
      }
      return v;
    })
    .addOption(new Option("--model <model>", "price path model").choices(["gbm", "mean-reverting"]).default("gbm"))
    .option("--tick-ms <n>", "how often the live market advances (streams also advance it)", int("tick-ms", 1, 60_000))
    .option(
      "--scenario-pace-ms <n>",
      "market-data: wall ms per StreamScenario update (each one simulated second; default 1000, as upstream)",
      int("scenario-pace-ms", 1, 60_000),
    )
    .option("--market-data-url <host:port>", "exchange alone: follow a running market-data simulator for liquidity")
    .option("--config-url <host:port>", "risk alone: watch a running configuration service for its limits")
    .option("--config-file <path>", "configuration seed (YAML or JSON; default config/defaults.yaml)")
    .option("--env <name>", "configuration environment (default: default)")
    .option("--latency-ms <n>", "exchange chaos: added latency per call", int("latency-ms", 0, 600_000))
    .option("--rejection-rate <x>", "exchange chaos: fraction of orders rejected (0..1)", num("rejection-rate", 0, 1))
    .option(
      "--spread-multiplier <x>",
      "exchange chaos: widen background liquidity spread",
      num("spread-multiplier", 0, 1000),
    )
    .option("--day-ms <n>", "custodian: one compressed business day (T+1), ms", int("day-ms", 0, 86_400_000))
    .option(
      "--settle-delay-ms <n>",
      "custodian chaos: extra delay per settlement",
      int("settle-delay-ms", 0, 3_600_000),
    )
    .option(
      "--settle-failure-rate <x>",
      "custodian chaos: fraction of settlements that fail (0..1)",
      num("settle-failure-rate", 0, 1),
    )
    .option(
      "--settle-partial-rate <x>",
      "custodian chaos: fraction of settlements that settle half (0..1)",
      num("settle-partial-rate", 0, 1),
    )
    .option("-q, --quiet", "no logs")
    .addOption(
      new Option("--log-level <level>", "log level").choices(["debug", "info", "warn", "error"]).default("info"),
    );
  for (const name of SIMULATOR_NAMES) {
    cmd.option(`--${name}-port <n>`, `port for ${name} (default ${DEFAULT_PORTS[name]})`, port);
  }
  cmd.action(async (which: SimulatorName | "all", flags: SimFlags) => {
    const only = which === "all" ? [...SIMULATOR_NAMES] : [which];
    const ports: Partial<Record<SimulatorName, number>> = {};
    for (const name of SIMULATOR_NAMES) {
      const v = flags[PORT_FLAGS[name]];
      if (typeof v === "number") ports[name] = v;
    }
    if (flags.port !== undefined) {
      if (which === "all")
        throw new InvalidArgumentError("--port applies to one simulator; use --<name>-port with all");
      ports[which] = flags.port;
    }
    await runSimulators({
      only,
      host: flags.host,
      ports,
      seed: flags.seed,
      scenario: flags.scenario,
      model: flags.model,
      tickMs: flags.tickMs,
      scenarioPaceMs: flags.scenarioPaceMs,
      configFile: flags.configFile,
      marketDataAddress: flags.marketDataUrl,
      configAddress: flags.configUrl,
      environment: flags.env,
      chaos: {
        latencyMs: flags.latencyMs,
        rejectionRate: flags.rejectionRate,
        spreadMultiplier: flags.spreadMultiplier,
      },
      custodian: {
        ...(flags.dayMs !== undefined ? { dayMs: flags.dayMs } : {}),
        chaos: {
          ...(flags.settleDelayMs !== undefined ? { delayMs: flags.settleDelayMs } : {}),
          ...(flags.settleFailureRate !== undefined ? { failureRate: flags.settleFailureRate } : {}),
          ...(flags.settlePartialRate !== undefined ? { partialRate: flags.settlePartialRate } : {}),
        },
      },
      quiet: flags.quiet,
      logLevel: flags.logLevel,
    });
  });
  return cmd;
}
