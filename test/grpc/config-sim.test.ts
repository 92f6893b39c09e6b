// Configuration simulator: seeded from config/defaults.yaml; typed get/list per environment; watch; admin set.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ChangeType,
  type ConfigChange,
  ConfigurationServiceClient,
  ValueType,
} from "../../gen/proto/tse/config/config";
import { ConfigurationSimulator } from "../../sim/config/ConfigurationSimulator";
import { connect, rejectsWith, rpc } from "./rpc";

const file = join(import.meta.dirname, "..", "..", "config", "defaults.yaml");

describe("configuration simulator", () => {
  let sim: ConfigurationSimulator;
  let raw: InstanceType<typeof ConfigurationServiceClient>;
  let cfg: ReturnType<typeof rpc<InstanceType<typeof ConfigurationServiceClient>>>;

  beforeAll(async () => {
    sim = new ConfigurationSimulator({ quiet: true, file, shutdownTimeoutMs: 500 });
    raw = connect(ConfigurationServiceClient, `127.0.0.1:${await sim.start(0)}`);
    cfg = rpc(raw);
  });
  afterAll(async () => {
    raw.close();
    await sim.stop();
  });

  it("serves typed values from the seed file, per environment with fallback to default", async () => {
    const d = await cfg.getValue({ key: "trading.position_limits.max_size", environment: "" });
    expect(d.value).toMatchObject({ type: ValueType.NUMBER, value: "2", environment: "default" });
    const local = await cfg.getValue({ key: "trading.position_limits.max_size", environment: "local" });
    expect(local.value).toMatchObject({ value: "1", environment: "local" });
    const fallback = await cfg.getValue({ key: "risk.limits.max_order_size", environment: "local" });
    expect(fallback.value).toMatchObject({ value: "1", environment: "default" });
    expect((await cfg.getValue({ key: "trading.enabled", environment: "" })).value).toMatchObject({
      type: ValueType.BOOLEAN,
      value: "true",
    });
    const mm = (await cfg.getValue({ key: "strategies.market_making", environment: "" })).value!;
    expect(mm.type).toBe(ValueType.JSON);
    expect(JSON.parse(mm.value)).toMatchObject({ spread_bps: 10, quote_size: "0.01" });
    expect((await cfg.getValue({ key: "exchange.taker_fee", environment: "" })).value).toMatchObject({
      type: ValueType.NUMBER,
      value: "0.0005",
    });
    expect((await cfg.getValue({ key: "trading.symbols", environment: "" })).value).toMatchObject({
      type: ValueType.JSON,
      value: '["BTC-USD","ETH-USD"]',
    });
  });

  it("lists by prefix with the environment's overrides merged in", async () => {
    const r = await cfg.listValues({ prefix: "risk.limits.", environment: "test" });
    expect(r.values.map((v) => [v.key, v.value])).toEqual([
      ["risk.limits.max_daily_loss", "500"],
      ["risk.limits.max_notional", "250000"],
      ["risk.limits.max_order_size", "1"],
      ["risk.limits.max_position_size", "2"],
    ]);
  });

  it("watch sends the initial values, then every change, with increasing versions", async () => {
    const got: ConfigChange[] = [];
    const stream = raw.watchValues({ prefixes: ["trading.position_limits."], environment: "local", sendInitial: true });
    stream.on("data", (c: ConfigChange) => got.push(c));
    stream.on("error", () => {});
    await expect.poll(() => got.length, { timeout: 3_000 }).toBe(2);
    expect(got.every((c) => c.changeType === ChangeType.INITIAL)).toBe(true);
    await cfg.setValue({
      key: "trading.position_limits.max_size",
      environment: "local",
      type: ValueType.NUMBER,
      value: "0.75",
    });
    await cfg.setValue({ key: "unrelated.key", environment: "local", type: ValueType.STRING, value: "x" });
    // A default change shadowed by a local override is not a change for "local".
    await cfg.setValue({
      key: "trading.position_limits.max_size",
      environment: "default",
      type: ValueType.NUMBER,
      value: "9",
    });
    await cfg.setValue({
      key: "trading.position_limits.max_notional",
      environment: "default",
      type: ValueType.NUMBER,
      value: "1000",
    });
    await expect.poll(() => got.length, { timeout: 3_000 }).toBe(4);
    stream.cancel();
    expect(got[2]).toMatchObject({
      changeType: ChangeType.SET,
      value: { key: "trading.position_limits.max_size", value: "0.75" },
    });
    expect(got[3]).toMatchObject({
      value: { key: "trading.position_limits.max_notional", value: "1000", environment: "default" },
    });
    expect(got[3]!.value!.version).toBeGreaterThan(got[2]!.value!.version);
    expect((await cfg.getValue({ key: "trading.position_limits.max_size", environment: "local" })).value!.value).toBe(
      "0.75",
    );
  });

  it("bad input → INVALID_ARGUMENT naming field and value; unknown key → NOT_FOUND", async () => {
    await rejectsWith(cfg.getValue({ key: "does.not.exist", environment: "" }), status.NOT_FOUND);
    const e1 = await rejectsWith(cfg.getValue({ key: "", environment: "" }), status.INVALID_ARGUMENT);
    expect(e1.details).toContain('key=""');
    const e2 = await rejectsWith(
      cfg.setValue({ key: "a.b", environment: "", type: ValueType.NUMBER, value: "NaN" }),
      status.INVALID_ARGUMENT,
    );
    expect(e2.details).toContain('value="NaN"');
    const e3 = await rejectsWith(
      cfg.setValue({ key: "a.b", environment: "", type: ValueType.JSON, value: "{nope" }),
      status.INVALID_ARGUMENT,
    );
    expect(e3.details).toContain('value="{nope"');
    const e4 = await rejectsWith(
      cfg.setValue({ key: "bad key!", environment: "", type: ValueType.STRING, value: "x" }),
      status.INVALID_ARGUMENT,
    );
    expect(e4.details).toContain('key="bad key!"');
    await rejectsWith(
      cfg.setValue({ key: "a.b", environment: "", type: ValueType.BOOLEAN, value: "yes" }),
      status.INVALID_ARGUMENT,
    );
    await rejectsWith(cfg.getValue({ key: "a.b", environment: "" }), status.NOT_FOUND);
  });
});

describe("configuration simulator seeded from a JSON file", () => {
  it("serves the JSON seed's typed values per environment", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tse-cfg-"));
    const jsonFile = join(dir, "seed.json");
    writeFileSync(
      jsonFile,
      JSON.stringify({
        environments: {
          default: {
            trading: { position_limits: { max_size: 7.25 }, enabled: false, venues: ["venue-a", "venue-b"] },
            risk: { mode: { type: "string", value: "fail-closed" } },
          },
          prod: { trading: { position_limits: { max_size: 3 } } },
        },
      }),
    );
    const sim = new ConfigurationSimulator({ quiet: true, file: jsonFile, shutdownTimeoutMs: 500 });
    const raw = connect(ConfigurationServiceClient, `127.0.0.1:${await sim.start(0)}`);
    try {
      const cfg = rpc(raw);
      const get = async (key: string, environment = "") => (await cfg.getValue({ key, environment })).value;
      expect(await get("trading.position_limits.max_size")).toMatchObject({ type: ValueType.NUMBER, value: "7.25" });
      expect(await get("trading.position_limits.max_size", "prod")).toMatchObject({ value: "3", environment: "prod" });
      expect(await get("trading.enabled")).toMatchObject({ type: ValueType.BOOLEAN, value: "false" });
      expect(await get("trading.venues")).toMatchObject({ type: ValueType.JSON, value: '["venue-a","venue-b"]' });
      expect(await get("risk.mode")).toMatchObject({ type: ValueType.STRING, value: "fail-closed" });
    } finally {
      raw.close();
      await sim.stop();
    }
  });
});
