// `tse sim` as a real process: JSON log lines, serving on the printed port, graceful exit on SIGTERM.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { credentials } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { ConfigurationServiceClient } from "../../gen/proto/tse/config/config";
import { rpc } from "./rpc";

const root = join(import.meta.dirname, "..", "..");

describe("tse sim (process)", () => {
  it("logs JSON, serves, and exits 0 on SIGTERM", async () => {
    const child = spawn(
      join(root, "node_modules", ".bin", "tsx"),
      ["cli/tse.ts", "sim", "config", "--port", "0", "--env", "local"],
      {
        cwd: root,
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
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
      await expect.poll(() => lines.find((l) => l.msg === "simulators ready"), { timeout: 20_000 }).toBeDefined();
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
  }, 30_000);

  it("rejects an unknown simulator name", async () => {
    const child = spawn(join(root, "node_modules", ".bin", "tsx"), ["cli/tse.ts", "sim", "nope"], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let err = "";
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
    expect(code).not.toBe(0);
    expect(err).toMatch(/'nope' is invalid/);
  }, 30_000);
});
