// A separate operator process for tests: sends `count` SetTradingState calls with a reason of `chars` characters to
// the engine control API and prints one JSON line with the answers (so the engine's memory is measured alone).
import { readFileSync } from "node:fs";
import { ClientManager } from "../../lib/grpc/ClientManager";
import { Discovery } from "../../lib/grpc/discovery";
import { EngineClient, engineChannelCredentials } from "../../lib/grpc/EngineClient";

const [endpoint, certFile, tokenFile, chars, count] = process.argv.slice(2);
const manager = new ClientManager({
  discovery: new Discovery({ env: { TSE_ENGINE_ENDPOINT: endpoint! } }),
  logger: { info() {}, warn() {}, debug() {} },
  serviceCredentials: {
    engine: engineChannelCredentials({
      caPem: readFileSync(certFile!, "utf8"),
      token: readFileSync(tokenFile!, "utf8").split("\n")[0]!.trim(),
    }),
  },
});
const engine = new EngineClient(manager);
const reason = "r".repeat(Number(chars));
const answers: { name: string; details: string; ms: number }[] = [];
for (let i = 0; i < Number(count); i++) {
  const t0 = performance.now();
  const e = await engine.setTradingState("HALTED", reason, { deadlineMs: 10_000 }).then(
    () => ({ name: "accepted", details: "" }),
    (err: { name?: string; details?: string }) => ({ name: err.name ?? "Error", details: err.details ?? "" }),
  );
  answers.push({ ...e, ms: performance.now() - t0 });
}
await manager.close();
process.stdout.write(`${JSON.stringify(answers)}\n`);
