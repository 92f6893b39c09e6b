// Records what a running marketdata.MarketDataService server answers, as raw protobuf bytes, into
// test/fixtures/upstream/captures.json (the golden wire bytes the CI tests decode). It only connects to an
// endpoint; it neither fetches nor builds any server.
//   npx tsx scripts/capture-upstream-market-data.ts --endpoint 127.0.0.1:50055 --commit <upstream sha>
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type CallOptions, Client, credentials, type ServiceError } from "@grpc/grpc-js";
import {
  GetPriceRequest,
  HealthCheckRequest,
  ScenarioRequest,
  ScenarioType,
  SimulationRequest,
  SimulationType,
  StreamPricesRequest,
} from "../gen/proto/marketdata/marketdata";

export interface Capture {
  method: string;
  label: string;
  /** The request as sent (our encoding), base64, and as JSON for the reader. */
  request: string;
  requestJson: unknown;
  /** Response messages in order, base64 (one for unary calls). */
  responses: string[];
  /** Final status of the call: 0 = OK. A stream cut short by us ends with 1 (CANCELLED) and says so. */
  status: { code: number; details: string };
}

const { values } = parseArgs({
  options: {
    endpoint: { type: "string", default: "127.0.0.1:50055" },
    commit: { type: "string" },
    out: { type: "string", default: join(import.meta.dirname, "..", "test", "fixtures", "upstream", "captures.json") },
  },
});
if (!values.commit || !/^[0-9a-f]{40}$/.test(values.commit)) {
  console.error("capture: --commit <40-hex sha of the server's source> is required");
  process.exit(2);
}

const raw = (b: Buffer) => b;
const client = new Client(values.endpoint!, credentials.createInsecure());
const opts = (): CallOptions => ({ deadline: Date.now() + 20_000 });
const b64 = (b: Uint8Array) => Buffer.from(b).toString("base64");

function unary(path: string, label: string, req: Uint8Array, json: unknown): Promise<Capture> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(path, raw, raw, Buffer.from(req), opts(), (err: ServiceError | null, res?: Buffer) => {
      resolve({
        method: path,
        label,
        request: b64(req),
        requestJson: json,
        responses: res ? [b64(res)] : [],
        status: { code: err?.code ?? 0, details: err?.details ?? "" },
      });
    });
  });
}

function stream(path: string, label: string, req: Uint8Array, json: unknown, take: number): Promise<Capture> {
  return new Promise((resolve) => {
    const responses: string[] = [];
    const call = client.makeServerStreamRequest(path, raw, raw, Buffer.from(req), opts());
    let cut = false;
    call.on("data", (b: Buffer) => {
      responses.push(b64(b));
      if (responses.length >= take && !cut) {
        cut = true;
        call.cancel();
      }
    });
    call.on("error", (err: ServiceError) =>
      resolve({
        method: path,
        label,
        request: b64(req),
        requestJson: json,
        responses,
        status: { code: err.code, details: cut ? `cancelled by the capture after ${take} messages` : err.details },
      }),
    );
    call.on("end", () =>
      resolve({
        method: path,
        label,
        request: b64(req),
        requestJson: json,
        responses,
        status: { code: 0, details: "" },
      }),
    );
  });
}

const MD = "/marketdata.MarketDataService";
const start = { seconds: 1_767_225_600, nanos: 0 }; // 2026-01-01T00:00:00Z
const jobs: Promise<Capture>[] = [];
const getPrice = { symbol: "BTC-USD" };
jobs.push(unary(`${MD}/GetPrice`, "BTC-USD", GetPriceRequest.encode(getPrice).finish(), getPrice));
const health = { service: "" };
jobs.push(unary(`${MD}/HealthCheck`, "empty service", HealthCheckRequest.encode(health).finish(), health));
const prices = { symbols: ["BTC-USD", "ETH-USD"], updateIntervalMs: 100 };
jobs.push(stream(`${MD}/StreamPrices`, "two symbols", StreamPricesRequest.encode(prices).finish(), prices, 6));
for (const t of [0, 1, 2, 3, 4, 5] as ScenarioType[]) {
  const req = {
    symbol: "ETH-USD",
    scenarioType: t,
    parameters: { intensity: 1.5, durationFactor: 1, recoveryFactor: 0.5, gradualTransition: true },
    startTime: start,
    durationMinutes: 1,
  };
  jobs.push(stream(`${MD}/StreamScenario`, ScenarioType[t]!, ScenarioRequest.encode(req).finish(), req, 2));
}
for (const t of [0, 1, 2, 3, 4] as SimulationType[]) {
  const req = {
    symbol: "BTC-USD",
    startTime: start,
    endTime: { seconds: start.seconds + 3 * 3600, nanos: 0 },
    simulationType: t,
    parameters: { volatilityFactor: 1.2, trendFactor: 0.5, dataPoints: 3, includeNoise: true, noiseLevel: 0.01 },
  };
  jobs.push(unary(`${MD}/GenerateSimulation`, SimulationType[t]!, SimulationRequest.encode(req).finish(), req));
}
// grpc.health.v1: HealthCheckRequest{service=1}; the response's status is field 1 (varint).
for (const service of ["", "market-data", "marketdata.MarketDataService"]) {
  const req = Buffer.concat([Buffer.from([0x0a, service.length]), Buffer.from(service)]);
  jobs.push(unary("/grpc.health.v1.Health/Check", `service "${service}"`, req, { service }));
}
// Our own service is not there: the status an upstream server gives for it.
jobs.push(stream("/tse.marketdata.QuoteService/StreamQuotes", "our service on upstream", new Uint8Array(), {}, 1));

const captures = await Promise.all(jobs);
client.close();
const doc = {
  source: "sk-quantfidential/market-data-simulator-go",
  commit: values.commit,
  capturedAt: new Date().toISOString(),
  captures,
};
writeFileSync(values.out!, `${JSON.stringify(doc, null, 2)}\n`);
for (const c of captures)
  console.log(
    `${c.method} [${c.label}]: ${c.responses.length} message(s), status ${c.status.code} ${c.status.details}`,
  );
