// ConfigurationServiceClient against the real configuration simulator on loopback (port 0):
// TTL cache + stats, last-known-good during an outage, watch with reconnect, typed/zod getters.
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { ValueType } from "../../gen/proto/tse/config/config";
import { ClientManager } from "../../lib/grpc/ClientManager";
import { ConfigurationServiceClient, ConfigValueError } from "../../lib/grpc/ConfigurationServiceClient";
import { Discovery } from "../../lib/grpc/discovery";
import { GrpcClientError, NotFoundError } from "../../lib/grpc/errors";
import { ConfigurationSimulator } from "../../sim/config/ConfigurationSimulator";

const quiet = { info() {}, warn() {}, debug() {} };
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function setup(ttlMs = 150) {
  const sim = new ConfigurationSimulator({ quiet: true, shutdownTimeoutMs: 300 });
  sim.store.set("trading.position_limits.max_size", "default", ValueType.NUMBER, "2.5");
  sim.store.set("trading.enabled", "default", ValueType.BOOLEAN, "true");
  sim.store.set("trading.venues", "default", ValueType.JSON, '["venue-a","venue-b"]');
  sim.store.set("trading.name", "default", ValueType.STRING, "mm-1");
  const port = await sim.start(0);
  cleanup.push(() => sim.stop());
  const manager = new ClientManager({
    discovery: new Discovery({ explicit: { configuration: `127.0.0.1:${port}` }, env: {} }),
    logger: quiet,
    retry: { maxAttempts: 2, initialDelayMs: 10, maxDelayMs: 20 },
    breaker: { consecutiveFailures: 3, halfOpenAfterMs: 200 },
  });
  cleanup.push(() => manager.close());
  const config = new ConfigurationServiceClient(manager, {
    ttlMs,
    logger: quiet,
    watchReconnect: { initialDelayMs: 30, maxDelayMs: 150 },
  });
  cleanup.push(() => config.close());
  return { sim, port, manager, config };
}

async function eventually(pred: () => boolean | Promise<boolean>, what: string, ms = 5_000) {
  for (const until = Date.now() + ms; !(await pred()); ) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe("ConfigurationServiceClient", () => {
  it("caches with a TTL and counts hits and misses", async () => {
    const { config } = await setup(150);
    expect(await config.getNumber("trading.position_limits.max_size")).toBe(2.5);
    expect(await config.getNumber("trading.position_limits.max_size")).toBe(2.5);
    expect(config.stats()).toMatchObject({ hits: 1, misses: 1, staleServed: 0 });
    await sleep(200);
    await config.getNumber("trading.position_limits.max_size");
    expect(config.stats()).toMatchObject({ hits: 1, misses: 2 });
  });

  it("serves last-known-good during a configuration outage and flags it", async () => {
    const { sim, port, config } = await setup(100);
    expect((await config.getDecimal("trading.position_limits.max_size")).toFixed()).toBe("2.5");
    await sim.stop();
    await sleep(150); // past the TTL: the cached value is stale
    expect((await config.getDecimal("trading.position_limits.max_size")).toFixed()).toBe("2.5");
    expect(config.stats()).toMatchObject({ staleServed: 1, degraded: true });
    // Its age is reported: at least the 150 ms slept (fetched before the outage), at most the test's run so far.
    expect(config.stats().lastKnownGoodAgeMs).toBeGreaterThanOrEqual(150);
    expect(config.stats().lastKnownGoodAgeMs).toBeLessThan(10_000);
    // A key never seen cannot be served stale: typed error, or the caller's fallback.
    const err = await config.getString("trading.never_read").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GrpcClientError);
    expect((err as GrpcClientError).transient || (err as GrpcClientError).kind === "circuit-open").toBe(true);
    expect(await config.getBoolean("trading.never_read_flag", false)).toBe(false);
    expect(config.stats().defaultsServed).toBe(1);

    await sim.start(port);
    await eventually(async () => {
      await config.getNumber("trading.position_limits.max_size");
      return !config.stats().degraded;
    }, "recovery after the service returns");
    expect(config.stats().lastKnownGoodAgeMs).toBeUndefined();
  });

  it("watches for changes (auto-reconnecting) and keeps the cache current", async () => {
    const { sim, port, config } = await setup(60_000);
    const changes: string[] = [];
    config.onChange((c) => changes.push(`${c.type}:${c.key}=${c.value?.value ?? ""}`));
    config.watch(["trading."]);
    await eventually(() => config.stats().cachedKeys >= 4, "initial values");
    const missesBefore = config.stats().misses;
    sim.store.set("trading.position_limits.max_size", "default", ValueType.NUMBER, "3");
    await eventually(() => changes.includes("set:trading.position_limits.max_size=3"), "the change");
    expect(await config.getNumber("trading.position_limits.max_size")).toBe(3);
    expect(config.stats().misses).toBe(missesBefore); // served from the watched cache

    await sim.stop();
    await sim.start(port);
    await eventually(() => config.stats().watchReconnects >= 1, "watch reconnect");
    sim.store.set("trading.position_limits.max_size", "default", ValueType.NUMBER, "4");
    await eventually(() => changes.includes("set:trading.position_limits.max_size=4"), "change after reconnect");
    expect(await config.getNumber("trading.position_limits.max_size")).toBe(4);
    sim.store.delete("trading.name", "default");
    await eventually(() => changes.includes("deleted:trading.name="), "delete");
    expect(config.stats().watchUpdates).toBeGreaterThanOrEqual(6);
  });

  it("validates typed values with zod and names the key and value", async () => {
    const { config } = await setup();
    expect(await config.getBoolean("trading.enabled")).toBe(true);
    expect(await config.getString("trading.name")).toBe("mm-1");
    expect(await config.getJson("trading.venues", z.array(z.string()))).toEqual(["venue-a", "venue-b"]);
    const notNumber = await config.getNumber("trading.name").catch((e: unknown) => e);
    expect(notNumber).toBeInstanceOf(ConfigValueError);
    expect(notNumber).toMatchObject({ key: "trading.name", value: "mm-1" });
    const wrongShape = await config.getJson("trading.venues", z.array(z.number())).catch((e: unknown) => e);
    expect(wrongShape).toBeInstanceOf(ConfigValueError);
    expect((wrongShape as Error).message).toContain("trading.venues");
    await expect(config.getString("trading.missing")).rejects.toBeInstanceOf(NotFoundError);
    expect(await config.getNumber("trading.missing", 7)).toBe(7);
  });

  it("caches NOT_FOUND for the TTL: a missing key costs one GetValue per TTL, and a watch set clears it", async () => {
    const { sim, config } = await setup(150);
    for (let i = 0; i < 20; i++) expect(await config.getNumber("trading.absent", 3)).toBe(3);
    expect(config.stats()).toMatchObject({ getValueCalls: 1, absentKeys: 1, defaultsServed: 20 });
    await expect(config.getString("trading.absent")).rejects.toBeInstanceOf(NotFoundError);
    expect(config.stats().getValueCalls).toBe(1);
    await sleep(200);
    await config.getNumber("trading.absent", 3);
    expect(config.stats().getValueCalls).toBe(2);
    config.watch(["trading."]);
    await eventually(() => config.stats().watchConnected, "watch connected");
    sim.store.set("trading.absent", "default", ValueType.NUMBER, "9");
    await eventually(async () => (await config.getNumber("trading.absent", 3)) === 9, "watch clears the absent entry");
    expect(config.stats().absentKeys).toBe(0);
  });
});
