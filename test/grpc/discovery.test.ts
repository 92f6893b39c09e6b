// Discovery: resolution order, validation, registry, re-resolution.
import type { ServiceDiscoveryClient } from "@aws-sdk/client-servicediscovery";
import { describe, expect, it } from "vitest";
import {
  CloudMapRegistry,
  DEFAULT_PORTS,
  Discovery,
  DiscoveryError,
  envVarFor,
  StaticRegistry,
} from "../../lib/grpc/discovery";

describe("Discovery", () => {
  it("resolves explicit > env > registry > default port", async () => {
    const registry = new StaticRegistry({ exchange: "10.0.0.3:7003", "risk-monitor": "10.0.0.4:7004" });
    const d = new Discovery({
      explicit: { exchange: "10.0.0.1:7001" },
      env: { TSE_EXCHANGE_ENDPOINT: "10.0.0.2:7002", TSE_MARKET_DATA_ENDPOINT: "10.0.0.5:7005" },
      registry,
    });
    expect(await d.resolve("exchange")).toEqual({ service: "exchange", address: "10.0.0.1:7001", source: "explicit" });
    expect(await d.resolve("market-data")).toEqual({ service: "market-data", address: "10.0.0.5:7005", source: "env" });
    expect(await d.resolve("risk-monitor")).toEqual({
      service: "risk-monitor",
      address: "10.0.0.4:7004",
      source: "registry",
    });
    expect(await d.resolve("configuration")).toEqual({
      service: "configuration",
      address: "127.0.0.1:50090",
      source: "default",
    });
  });

  it("knows the DESIGN.md default ports", () => {
    expect(DEFAULT_PORTS).toEqual({
      custodian: 50053,
      exchange: 50054,
      "market-data": 50055,
      "risk-monitor": 50056,
      engine: 50057,
      "test-coordinator": 50058,
      configuration: 50090,
    });
    expect(envVarFor("market-data")).toBe("TSE_MARKET_DATA_ENDPOINT");
    expect(envVarFor("exchange")).toBe("TSE_EXCHANGE_ENDPOINT");
  });

  it("rejects malformed endpoints naming the field and value, and unknown services", async () => {
    const d = new Discovery({ env: { TSE_EXCHANGE_ENDPOINT: "not an endpoint" } });
    const err = await d.resolve("exchange").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DiscoveryError);
    expect(err).toMatchObject({ field: "TSE_EXCHANGE_ENDPOINT", value: "not an endpoint" });
    const bad = new Discovery({ env: { TSE_EXCHANGE_ENDPOINT: "127.0.0.1:99999" } });
    await expect(bad.resolve("exchange")).rejects.toThrow(/port out of range/);
    await expect(new Discovery({ env: {} }).resolve("mystery")).rejects.toThrow(/TSE_MYSTERY_ENDPOINT/);
  });

  it("caches until invalidated or refreshed; register() updates the static registry", async () => {
    const d = new Discovery({ env: {} });
    expect((await d.resolve("engine")).address).toBe("127.0.0.1:50057");
    d.register("engine", "127.0.0.1:6001"); // the quoter registering itself at start-up
    expect(await d.resolve("engine")).toMatchObject({ address: "127.0.0.1:6001", source: "registry" });
    (d.registry as StaticRegistry).register("engine", "127.0.0.1:6002");
    expect((await d.resolve("engine")).address).toBe("127.0.0.1:6001"); // cached
    expect((await d.resolve("engine", { refresh: true })).address).toBe("127.0.0.1:6002");
    d.invalidate("engine");
    expect((await d.resolve("engine")).address).toBe("127.0.0.1:6002");
  });

  it("maps Cloud Map DiscoverInstances attributes to host:port (SDK response shape only; no AWS here)", async () => {
    const sent: unknown[] = [];
    const fakeClient = {
      send: async (cmd: { input: unknown }) => {
        sent.push(cmd.input);
        return { Instances: [{ Attributes: { AWS_INSTANCE_IPV4: "10.1.2.3", AWS_INSTANCE_PORT: "50054" } }] };
      },
    } as unknown as ServiceDiscoveryClient;
    const reg = new CloudMapRegistry(fakeClient, "tse.local");
    expect(await reg.lookup("exchange")).toBe("10.1.2.3:50054");
    expect(sent[0]).toMatchObject({ NamespaceName: "tse.local", ServiceName: "exchange" });
    const d = new Discovery({ env: {}, registry: reg });
    expect(await d.resolve("exchange")).toMatchObject({ address: "10.1.2.3:50054", source: "registry" });
  });
});
