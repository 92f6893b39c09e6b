// Interop: every simulator's grpc.health.v1 checked by a NON-Node client (Python grpcio-health-checking from PyPI).
// The venv is created on first use in .cache/pyinterop-venv (git-ignored). No python3 = a clear failure, never a skip.
import { execFile, execFileSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningSimulators, SIMULATOR_NAMES, type SimulatorName, startSimulators } from "../../sim/main";

const root = join(import.meta.dirname, "..", "..");
const venv = join(root, ".cache", "pyinterop-venv");
const python = join(venv, "bin", "python");
const script = join(import.meta.dirname, "interop", "health_check.py");
const PIP_PACKAGES = ["grpcio==1.85.1", "grpcio-health-checking==1.85.1"];

const SERVICE_NAMES: Record<SimulatorName, string> = {
  exchange: "tse.exchange.ExchangeService",
  "market-data": "marketdata.MarketDataService",
  risk: "tse.risk.RiskMonitorService",
  config: "tse.config.ConfigurationService",
  coordinator: "tse.coordinator.TestCoordinatorService",
  custodian: "tse.custodian.SettlementService",
};

function ensurePythonClient(): void {
  try {
    execFileSync("python3", ["--version"], { stdio: "pipe" });
  } catch (err) {
    throw new Error(
      `python3 is required for the gRPC interop test (non-Node health client) but could not be run: ${(err as Error).message}`,
    );
  }
  mkdirSync(join(root, ".cache"), { recursive: true });
  // flock: concurrent test workers/engineers must not build the venv twice.
  const setup = [
    `if ! "${python}" -c "import grpc, grpc_health.v1.health_pb2_grpc" >/dev/null 2>&1; then`,
    `  python3 -m venv "${venv}" && "${python}" -m pip install -q --disable-pip-version-check ${PIP_PACKAGES.join(" ")};`,
    "fi",
  ].join("\n");
  execFileSync("flock", [join(root, ".cache", "pyinterop.lock"), "sh", "-c", setup], {
    stdio: "pipe",
    timeout: 280_000,
  });
  if (!existsSync(python)) throw new Error(`python venv missing after setup: ${python}`);
}

interface CheckResult {
  address: string;
  service: string;
  status?: string;
  code?: string;
  error?: string;
}

// Async on purpose: the servers live in this process, so a synchronous child call would block them.
async function pyCheck(targets: Array<[string, string]>): Promise<CheckResult[]> {
  const { stdout } = await promisify(execFile)(python, [script, ...targets.map(([a, s]) => `${a}=${s}`)], {
    encoding: "utf8",
    timeout: 60_000,
  });
  return stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as CheckResult);
}

describe("gRPC interop: Python health client against every simulator", () => {
  let sims: RunningSimulators;

  beforeAll(async () => {
    ensurePythonClient();
    const ports = Object.fromEntries(SIMULATOR_NAMES.map((n) => [n, 0])) as Record<SimulatorName, number>;
    sims = await startSimulators({ ports, quiet: true, seed: 3 });
  }, 300_000);
  afterAll(async () => {
    await sims?.stop();
  });

  it("reports SERVING for each server and each of its services", async () => {
    const targets: Array<[string, string]> = [];
    for (const name of SIMULATOR_NAMES) {
      targets.push([sims.addresses[name]!, ""], [sims.addresses[name]!, SERVICE_NAMES[name]]);
    }
    targets.push([sims.addresses.exchange!, "tse.exchange.ExchangeAdminService"]);
    const results = await pyCheck(targets);
    expect(results).toHaveLength(targets.length);
    for (const r of results) expect(r, JSON.stringify(r)).toMatchObject({ status: "SERVING" });
  });

  it("reports NOT_FOUND for an unknown service and UNAVAILABLE once a simulator is stopped", async () => {
    const [unknown] = await pyCheck([[sims.addresses.risk!, "no.such.Service"]]);
    expect(unknown).toMatchObject({ code: "NOT_FOUND" });
    await sims.servers.coordinator!.stop();
    const [down] = await pyCheck([[sims.addresses.coordinator!, ""]]);
    expect(down).toMatchObject({ code: "UNAVAILABLE" });
  });
});
