// `tse synth` / `tse deploy`: thin wrappers over the CDK app (cdk.json → cdk/app.ts) with the contexts documented.
import { spawn } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type Command, InvalidArgumentError, Option } from "commander";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../..");
const ENVS = ["dev", "prod"] as const;

function contextPair(v: string, prev: string[] = []): string[] {
  if (!/^[A-Za-z0-9_:.@/-]+=.*$/.test(v))
    throw new InvalidArgumentError(`--context=${JSON.stringify(v)}: expected key=value`);
  return [...prev, v];
}

interface CdkFlags {
  env: (typeof ENVS)[number];
  config?: string;
  out?: string;
  context: string[];
  profile?: string;
  requireApproval?: string;
}

function runCdk(args: string[]): Promise<number> {
  const bin = join(ROOT, "node_modules", ".bin", process.platform === "win32" ? "cdk.cmd" : "cdk");
  console.error(`tse: cdk ${args.join(" ")}`);
  return new Promise((resolve) => {
    const child = spawn(bin, args, { cwd: ROOT, stdio: "inherit" });
    child.on("error", (e) => {
      console.error(`tse: could not run the CDK CLI (${bin}): ${e.message}; run npm install`);
      resolve(1);
    });
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

function common(cmd: Command): Command {
  return cmd
    .addOption(new Option("--env <name>", "stack environment (context env)").choices([...ENVS]).default("dev"))
    .option("-c, --context <key=value>", "extra CDK context (repeatable)", contextPair, [])
    .option("--profile <name>", "AWS profile (deploy only needs credentials)")
    .option("--out <dir>", "cloud assembly directory (default cdk.out/)")
    .option(
      "--config <file>",
      "configuration file (docs/configuration.md): its strategyModules are bundled, its risk limits and arbitrage settings become the functions' defaults",
    );
}

function cdkArgs(verb: string, flags: CdkFlags, extra: string[]): string[] {
  const args = [verb, "-c", `env=${flags.env}`, ...flags.context.flatMap((c) => ["-c", c]), "--no-notices"];
  if (flags.config) args.push("-c", `tseConfig=${resolve(flags.config)}`);
  if (flags.out) args.push("--output", resolve(flags.out));
  if (flags.profile) args.push("--profile", flags.profile);
  return [...args, ...extra];
}

export function registerCdkCommands(program: Command): void {
  common(program.command("synth"))
    .description("synthesize the CloudFormation template into cdk.out/ (local esbuild; offline unless AWS credentials are set)")
    .addHelpText(
      "after",
      `
Contexts:
  env=dev|prod   stack TradingEngine-<env>; prod retains data, longer retention, faster report schedule
  strategyModules='["examples/strategies/spreadJoiner.ts"]'   plug-ins bundled into the functions and quoter image
  tseConfig=<file>   what --config sets
Examples:
  $ tse synth                     # TradingEngine-dev into cdk.out/
  $ tse synth --config my-run.yaml
  $ tse synth --env prod
  $ tse synth -c env=prod         # same, raw CDK context
Docs: docs/deployment.md`,
    )
    .action(async (flags: CdkFlags) => {
      process.exitCode = await runCdk(cdkArgs("synth", flags, ["--quiet"]));
    });

  common(program.command("deploy"))
    .description("deploy the stack with the CDK CLI (needs AWS credentials and a bootstrapped account)")
    .addOption(
      new Option("--require-approval <level>", "CDK approval for security changes")
        .choices(["never", "any-change", "broadening"])
        .default("broadening"),
    )
    .addHelpText(
      "after",
      `
Contexts:
  env=dev|prod   which stack (TradingEngine-dev / TradingEngine-prod)
Examples:
  $ tse deploy                                # TradingEngine-dev
  $ tse deploy --env prod --profile trading   # prod with a named AWS profile
  $ AWS_ENDPOINT_URL=http://127.0.0.1:4566 tse deploy   # a LocalStack with Docker (Lambda needs it)
Docs: docs/deployment.md`,
    )
    .action(async (flags: CdkFlags) => {
      process.exitCode = await runCdk(
        cdkArgs("deploy", flags, ["--require-approval", flags.requireApproval ?? "broadening"]),
      );
    });
}
