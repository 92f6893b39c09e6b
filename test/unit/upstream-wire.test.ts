// Golden wire bytes captured from the real upstream market-data server (test/fixtures/upstream/): our generated
// code decodes every one and re-encodes it to the same bytes; the upstream layout table (facts) reads them with
// no unknown field; and our generated marketdata messages and enums agree with that table field for field.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Timestamp } from "../../gen/proto/google/protobuf/timestamp";
import * as md from "../../gen/proto/marketdata/marketdata";
import { decimalFromDouble } from "../../lib/grpc/MarketDataClient";
import type { Capture } from "../../scripts/capture-upstream-market-data";
import { UPSTREAM_ENUMS, UPSTREAM_MESSAGES, UPSTREAM_METHODS } from "../fixtures/upstream/layout";
import { decodeByLayout, encodeByLayout } from "../support/protoLayout";

const doc = JSON.parse(
  readFileSync(join(import.meta.dirname, "..", "fixtures", "upstream", "captures.json"), "utf8"),
) as {
  commit: string;
  captures: Capture[];
};
const bytes = (b64: string) => new Uint8Array(Buffer.from(b64, "base64"));

interface Codec {
  decode(b: Uint8Array): unknown;
  encode(m: never): { finish(): Uint8Array };
  fromPartial(o: object): unknown;
}
const CODECS: Record<string, Codec> = {
  "google.protobuf.Timestamp": Timestamp as unknown as Codec,
  GetPriceRequest: md.GetPriceRequest as unknown as Codec,
  GetPriceResponse: md.GetPriceResponse as unknown as Codec,
  StreamPricesRequest: md.StreamPricesRequest as unknown as Codec,
  PriceUpdate: md.PriceUpdate as unknown as Codec,
  PriceChangeInfo: md.PriceChangeInfo as unknown as Codec,
  SimulationRequest: md.SimulationRequest as unknown as Codec,
  SimulationResponse: md.SimulationResponse as unknown as Codec,
  ScenarioRequest: md.ScenarioRequest as unknown as Codec,
  PricePoint: md.PricePoint as unknown as Codec,
  StatisticalMetrics: md.StatisticalMetrics as unknown as Codec,
  SimulationParameters: md.SimulationParameters as unknown as Codec,
  ScenarioParameters: md.ScenarioParameters as unknown as Codec,
  HealthCheckRequest: md.HealthCheckRequest as unknown as Codec,
  HealthCheckResponse: md.HealthCheckResponse as unknown as Codec,
};
const ourEnums: Record<string, Record<string, unknown>> = {
  SimulationType: md.SimulationType,
  ScenarioType: md.ScenarioType,
  HealthStatus: md.HealthStatus,
};

const of = (method: string) => doc.captures.filter((c) => c.method === `/marketdata.MarketDataService/${method}`);

describe("golden bytes from upstream market-data-simulator-go", () => {
  it("names the upstream commit they came from", () => {
    expect(doc.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(readFileSync(join(import.meta.dirname, "..", "fixtures", "upstream", "README.md"), "utf8")).toContain(
      doc.commit,
    );
  });

  it("covers every upstream method, each ScenarioType and each SimulationType", () => {
    for (const path of Object.keys(UPSTREAM_METHODS))
      expect(doc.captures.some((c) => c.method === path && c.responses.length > 0)).toBe(true);
    expect(of("StreamScenario").map((c) => c.label)).toEqual(Object.keys(UPSTREAM_ENUMS.ScenarioType!));
    expect(of("GenerateSimulation").map((c) => c.label)).toEqual(Object.keys(UPSTREAM_ENUMS.SimulationType!));
  });

  const upstream = doc.captures.filter((c) => UPSTREAM_METHODS[c.method]);
  it.each(upstream.map((c) => [`${c.method} [${c.label}]`, c] as const))(
    "%s: our generated code decodes it and re-encodes the same bytes; the layout table reads it",
    (_name, c) => {
      const [, resType] = UPSTREAM_METHODS[c.method]!;
      const codec = CODECS[resType]!;
      expect(c.responses.length).toBeGreaterThan(0);
      for (const r of c.responses) {
        const b = bytes(r);
        const msg = codec.decode(b);
        expect(Buffer.from(codec.encode(msg as never).finish()).equals(Buffer.from(b))).toBe(true);
        expect(() => decodeByLayout(UPSTREAM_MESSAGES, resType, b)).not.toThrow();
      }
    },
  );

  it("GetPrice: a flat response with a double price and a Timestamp", () => {
    const r = md.GetPriceResponse.decode(bytes(of("GetPrice")[0]!.responses[0]!));
    expect(r.symbol).toBe("BTC-USD");
    expect(r.price).toBe(100); // upstream's stub price
    expect(decimalFromDouble(r.price)).toBe("100");
    expect(r.timestamp!.seconds).toBeGreaterThan(1_700_000_000);
    expect(r.timestamp!.nanos).toBeGreaterThanOrEqual(0);
    expect(r.source).toBe("market-data-simulator");
  });

  it("HealthCheck: the HealthStatus enum and the details map", () => {
    const r = md.HealthCheckResponse.decode(bytes(of("HealthCheck")[0]!.responses[0]!));
    expect(r.status).toBe(md.HealthStatus.SERVING);
    expect(r.message).toContain("healthy");
    expect(Object.keys(r.details).sort()).toEqual(["active_streams", "service_name", "service_version"]);
    expect(r.details.service_name).toBe("market-data-simulator");
  });

  it("StreamPrices: every update has a price, a volume, a Timestamp and PriceChangeInfo", () => {
    const ups = of("StreamPrices")[0]!.responses.map((r) => md.PriceUpdate.decode(bytes(r)));
    expect(ups).toHaveLength(6);
    expect(new Set(ups.map((u) => u.symbol))).toEqual(new Set(["BTC-USD", "ETH-USD"]));
    for (const u of ups) {
      expect(u.price).toBeGreaterThan(90);
      expect(u.price).toBeLessThan(110);
      expect(u.volume).toBeGreaterThan(0);
      expect(u.timestamp!.seconds).toBeGreaterThan(1_700_000_000);
      const ci = u.changeInfo!;
      expect(ci.dailyHigh).toBeGreaterThan(ci.dailyLow);
      expect(ci.changePercentage).toBeCloseTo((ci.changeAmount / (u.price - ci.changeAmount)) * 100, 9);
      // The decimal the engine uses reads back as the very same double.
      expect(Number(decimalFromDouble(u.price))).toBe(u.price);
    }
  });

  it("StreamScenario: one update per simulated second from start_time", () => {
    for (const c of of("StreamScenario")) {
      const req = c.requestJson as { startTime: { seconds: number } };
      const ups = c.responses.map((r) => md.PriceUpdate.decode(bytes(r)));
      expect(ups.map((u) => u.timestamp!.seconds)).toEqual([req.startTime.seconds, req.startTime.seconds + 1]);
      expect(ups.every((u) => u.symbol === "ETH-USD" && u.price > 0 && u.source === "scenario-simulator")).toBe(true);
    }
  });

  it("GenerateSimulation: PricePoints and StatisticalMetrics", () => {
    for (const c of of("GenerateSimulation")) {
      const r = md.SimulationResponse.decode(bytes(c.responses[0]!));
      expect(r.symbol).toBe("BTC-USD");
      expect(r.historicalData).toHaveLength(3); // hourly over 3 hours
      expect(r.simulatedData).toHaveLength(3);
      expect(r.historicalData[0]!.timestamp!.seconds).toBe(1_767_225_600);
      expect(r.historicalData.every((p) => p.high >= p.low && p.volume > 0)).toBe(true);
      expect(r.similarityMetrics!.confidenceScore).toBeGreaterThan(0);
      expect(r.simulationId).toMatch(/^sim_BTC-USD_\d+$/);
    }
  });

  it("grpc.health.v1: upstream serves the empty and the 'market-data' keys, not the full service name", () => {
    const h = doc.captures.filter((c) => c.method === "/grpc.health.v1.Health/Check");
    const status = (c: Capture) =>
      decodeByLayout({ R: { 1: { name: "status", kind: "enum" } } }, "R", bytes(c.responses[0]!)).status;
    expect(status(h.find((c) => c.label === 'service ""')!)).toBe(1); // SERVING
    expect(status(h.find((c) => c.label === 'service "market-data"')!)).toBe(1);
    expect(h.find((c) => c.label === 'service "marketdata.MarketDataService"')!.status.code).toBe(5); // NOT_FOUND
  });

  it("our tse.marketdata.QuoteService is UNIMPLEMENTED on upstream (what the client falls back on)", () => {
    const c = doc.captures.find((x) => x.method === "/tse.marketdata.QuoteService/StreamQuotes")!;
    expect(c.status.code).toBe(12);
  });
});

describe("our generated marketdata code against the upstream layout table", () => {
  it("has every enum value upstream has, and no other", () => {
    for (const [name, values] of Object.entries(UPSTREAM_ENUMS)) {
      const ours = Object.fromEntries(
        Object.entries(ourEnums[name]!).filter(([k, v]) => typeof v === "number" && k !== "UNRECOGNIZED"),
      );
      expect(ours, name).toEqual(values);
    }
  });

  // A value for every field of a layout (non-default, so proto3 writes it on the wire).
  function sample(type: string, depth = 0): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const f of Object.values(UPSTREAM_MESSAGES[type]!)) {
      let v: unknown;
      if (f.kind === "string") v = `${f.name}-x`;
      else if (f.kind === "double") v = 1.25;
      else if (f.kind === "int32" || f.kind === "int64") v = 7;
      else if (f.kind === "bool") v = true;
      else if (f.kind === "enum") v = Math.max(...Object.values(UPSTREAM_ENUMS[f.type!]!));
      else if (f.kind === "map<string,string>") v = { a: "1", b: "2" };
      else v = depth > 3 ? {} : sample(f.type!, depth + 1);
      out[f.name] = f.repeated ? [v, v] : v;
    }
    return out;
  }
  const camel = (s: string) => s.replace(/_(\w)/g, (_, c: string) => c.toUpperCase());
  function toOurs(type: string, v: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const f of Object.values(UPSTREAM_MESSAGES[type]!)) {
      const x = v[f.name];
      const conv = (y: unknown) => (f.kind === "message" ? toOurs(f.type!, y as Record<string, unknown>) : y);
      out[camel(f.name)] = f.repeated ? (x as unknown[]).map(conv) : conv(x);
    }
    return out;
  }

  it.each(Object.keys(UPSTREAM_MESSAGES))("%s: every field round-trips between our code and the table", (type) => {
    const codec = CODECS[type]!;
    const v = sample(type);
    // table → bytes → our generated code
    const fromTable = encodeByLayout(UPSTREAM_MESSAGES, type, v);
    expect(codec.decode(fromTable)).toEqual(codec.fromPartial(toOurs(type, v)));
    // our generated code → bytes → table (every field present, right number and wire type)
    const ours = codec.encode(codec.fromPartial(toOurs(type, v)) as never).finish();
    expect(decodeByLayout(UPSTREAM_MESSAGES, type, ours)).toEqual(v);
  });
});
