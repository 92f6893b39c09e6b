// `tse sim` as a real process: JSON log lines, serving on the printed port, graceful exit on SIGTERM.
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";
import { type Client, credentials, makeGenericClientConstructor } from "@grpc/grpc-js";
import { service as healthService } from "grpc-health-check";
import { describe, expect, it } from "vitest";
import { ConfigurationServiceClient } from "../../gen/proto/tse/config/config";
import { SIMULATOR_NAMES } from "../../sim/main";
import { rpc } from "./rpc";

const root = join(import.meta.dirname, "..", "..");

// The package's own bin (node + tsx's loader in one process), so SIGTERM reaches the simulator process itself.
// The tsx CLI wrapper relays a signal to its child and SIGKILLs it (exit 143) when the child does not confirm
// within 30 ms, which a loaded machine misses: that would test tsx's relay, not our shutdown.
const spawnTse = (args: string[]) =>
  spawn(process.execPath, [join(root, "bin", "tse.mjs"), ...args], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });

describe("tse sim (process)", () => {
  it("logs JSON, serves, and exits 0 on SIGTERM", async () => {
    const child = spawnTse(["sim", "config", "--port", "0", "--env", "local"]);
    const lines: Array<Record<string, unknown>> = [];
    let buf = "";
    child.stdout.on("data", (d: Buffer) => {
      buf += d.toString();
      let i = buf.indexOf("\n");
      while (i >= 0) {
        lines.push(JSON.parse(buf.slice(0, i)) as Record<string, unknown>);
        buf = buf.slice(i + 1);
        i = buf.indexOf("\n");
      }
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    try {
      await expect.poll(() => lines.find((l) => l.msg === "simulators ready"), { timeout: 60_000 }).toBeDefined();
      const ready = lines.find((l) => l.msg === "simulators ready") as { ports: { config: number } };
      expect(lines.find((l) => l.msg === "started")).toMatchObject({ level: "info", service: "config-sim" });
      const client = new ConfigurationServiceClient(`127.0.0.1:${ready.ports.config}`, credentials.createInsecure());
      const v = await rpc(client).getValue({ key: "trading.position_limits.max_size", environment: "" });
      expect(v.value).toMatchObject({ value: "1", environment: "local" });
      client.close();
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      expect(lines.map((l) => l.msg)).toContain("stopped");
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  }, 90_000);

  // Every simulator on its own: JSON on stdout only, grpc.health.v1 SERVING on the chosen (ephemeral) port,
  // and on SIGTERM a "stopped" line and exit code 0.
  it.each(SIMULATOR_NAMES)(
    "%s alone: JSON logs, health SERVING, exit 0 on SIGTERM",
    async (name) => {
      const child = spawnTse(["sim", name, "--port", "0", "--tick-ms", "50"]);
      const lines: Array<Record<string, unknown>> = [];
      const notJson: string[] = [];
      let buf = "";
      child.stdout.on("data", (d: Buffer) => {
        buf += d.toString();
        let i = buf.indexOf("\n");
        while (i >= 0) {
          const line = buf.slice(0, i);
          try {
            lines.push(JSON.parse(line) as Record<string, unknown>);
          } catch {
            notJson.push(line);
          }
          buf = buf.slice(i + 1);
          i = buf.indexOf("\n");
        }
      });
      const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
      let health: Client | undefined;
      try {
        await expect.poll(() => lines.find((l) => l.msg === "simulators ready"), { timeout: 60_000 }).toBeDefined();
        const ready = lines.find((l) => l.msg === "simulators ready") as { ports: Record<string, number> };
        const port = ready.ports[name];
        expect(port).toBeGreaterThan(0);
        expect(Object.keys(ready.ports)).toEqual([name]);
        expect(lines.find((l) => l.msg === "started")).toMatchObject({ service: `${name}-sim`, port });
        const Health = makeGenericClientConstructor(healthService, "Health");
        health = new Health(`127.0.0.1:${port}`, credentials.createInsecure());
        const check = (
          rpc(health) as unknown as { check(r: { service: string }): Promise<{ status: string | number }> }
        ).check;
        const res = await check({ service: "" });
        expect([1, "SERVING"]).toContain(res.status);
        child.kill("SIGTERM");
        expect(await exited).toBe(0);
        expect(lines.filter((l) => l.msg === "stopped").map((l) => l.service)).toEqual([`${name}-sim`]);
        expect(notJson).toEqual([]);
        for (const l of lines) expect(l).toMatchObject({ level: expect.any(String), msg: expect.any(String) });
      } finally {
        health?.close();
        if (child.exitCode === null) child.kill("SIGKILL");
      }
    },
    90_000,
  );

  it("all: every port is set by its own --<name>-port flag", async () => {
    // Free ports picked by the OS just before the run (ephemeral, so concurrent tests do not collide).
    const free = () =>
      new Promise<number>((resolve, reject) => {
        const srv = createServer();
        srv.once("error", reject);
        srv.listen(0, "127.0.0.1", () => {
          const { port } = srv.address() as { port: number };
          srv.close(() => resolve(port));
        });
      });
    const wanted: Record<string, number> = {};
    for (const name of SIMULATOR_NAMES) wanted[name] = await free();
    const args = SIMULATOR_NAMES.flatMap((n) => [`--${n}-port`, String(wanted[n])]);
    const child = spawnTse(["sim", "all", "-q", ...args]);
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    try {
      const Health = makeGenericClientConstructor(healthService, "Health");
      for (const name of SIMULATOR_NAMES) {
        const health = new Health(`127.0.0.1:${wanted[name]}`, credentials.createInsecure());
        const check = (
          rpc(health, 2_000) as unknown as { check(r: { service: string }): Promise<{ status: string | number }> }
        ).check;
        await expect
          .poll(
            () =>
              check({ service: "" }).then(
                (r) => r.status,
                () => undefined,
              ),
            { timeout: 60_000 },
          )
          .toSatisfy((s) => s === 1 || s === "SERVING");
        health.close();
      }
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  }, 90_000);

  it("rejects an unknown simulator name", async () => {
    const child = spawnTse(["sim", "nope"]);
    let err = "";
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
    expect(code).not.toBe(0);
    expect(err).toMatch(/'nope' is invalid/);
  }, 90_000);
});
