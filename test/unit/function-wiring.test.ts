// Each deployed function's wiring: only what it calls reaches its bundle, and the settings defaults come from the
// environment (TSE_SETTINGS, set by the stack); SSM only for hosts, when TSE_SETTINGS_PARAMETER is set.
import path from "node:path";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";
import { FUNCTION_BUNDLING, functionAlias } from "../../cdk/functionBundling";
import { hostSettingsDefaults } from "../../lib/app/dependencies";
import { createBaseDependencies, settingsDefaults, settingsFromEnv } from "../../lib/app/wiring/base";
import { InvalidFieldError } from "../../lib/domain/errors";

const ROOT = path.join(import.meta.dirname, "..", "..");

async function bundledInputs(fn: string): Promise<string[]> {
  const r = await build({
    entryPoints: [path.join(ROOT, "functions", fn, "handler.ts")],
    bundle: true,
    write: false,
    metafile: true,
    platform: "node",
    format: "esm",
    target: FUNCTION_BUNDLING.target,
    mainFields: [...FUNCTION_BUNDLING.mainFields],
    external: [...FUNCTION_BUNDLING.externalModules],
    define: { ...FUNCTION_BUNDLING.define },
    alias: functionAlias(ROOT),
    outfile: "index.mjs",
    logLevel: "silent",
  });
  return Object.keys(Object.values(r.metafile.outputs)[0]!.inputs);
}

async function bundledPackages(fn: string): Promise<Set<string>> {
  const inputs = await bundledInputs(fn);
  return new Set(inputs.map((f) => f.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/)?.[1] ?? f.split("/")[0]!));
}

describe("function wiring", () => {
  it("signal and reporting carry no gRPC layer; fill-handling no exchange; no function the X-Ray tracer or parser", async () => {
    for (const fn of ["signal", "reporting"]) {
      const pk = await bundledPackages(fn);
      expect([...pk].filter((p) => p.startsWith("@grpc/") || p === "gen" || p === "hdr-histogram-js")).toEqual([]);
      expect(pk.has("@aws-sdk/client-dynamodb")).toBe(true);
    }
    for (const fn of ["order-placement", "fill-handling", "settlement"]) {
      const pk = await bundledPackages(fn);
      expect(pk.has("@grpc/grpc-js")).toBe(true);
      expect(pk.has("protobufjs")).toBe(false); // @grpc/proto-loader stays external
      expect(pk.has("aws-xray-sdk-core")).toBe(false);
      expect(pk.has("@aws-lambda-powertools/parser")).toBe(false);
    }
    // Lambda's credentials are in the environment: no default chain (SSO, ini, STS clients) in any bundle.
    for (const fn of ["signal", "reporting", "order-placement", "fill-handling", "settlement"]) {
      const pk = await bundledPackages(fn);
      for (const p of [
        "@aws-sdk/credential-provider-node",
        "@aws-sdk/credential-provider-sso",
        "@aws-sdk/nested-clients",
      ])
        expect(pk.has(p), `${fn}: ${p}`).toBe(false);
      expect(pk.has("@aws-sdk/credential-provider-env"), fn).toBe(true);
      // Settings come in TSE_SETTINGS: no SSM client.
      expect(pk.has("@aws-sdk/client-ssm"), fn).toBe(false);
      // The client layer's default latency window, not hdr-histogram (and its pako).
      expect(
        [...pk].filter((p) => p === "hdr-histogram-js" || p === "pako"),
        fn,
      ).toEqual([]);
    }
    const fill = await bundledInputs("fill-handling");
    expect(fill.filter((f) => f.includes("gen/proto/tse/exchange") || f.includes("gen/proto/tse/custodian"))).toEqual(
      [],
    );
    expect(fill.some((f) => f.includes("gen/proto/tse/risk"))).toBe(true);
  }, 60_000);

  it("settings defaults from TSE_SETTINGS; a bad value names the variable; no SSM read without a parameter name", async () => {
    expect(settingsFromEnv({})).toEqual({});
    const env = { TSE_SETTINGS: JSON.stringify({ snapshotMaxAgeMs: 1234 }) };
    expect(settingsDefaults(env)).toEqual({ snapshotMaxAgeMs: 1234 }); // a value, not a loader: nothing to read
    const deps = createBaseDependencies(env);
    expect((await deps.settings.get()).snapshotMaxAgeMs).toBe(1234);
    for (const bad of ["{not json", "[1]"]) {
      const e = (() => {
        try {
          settingsFromEnv({ TSE_SETTINGS: bad });
        } catch (err) {
          return err;
        }
      })();
      expect(e).toBeInstanceOf(InvalidFieldError);
      expect((e as InvalidFieldError).field).toBe("TSE_SETTINGS");
    }
    expect(() => settingsFromEnv({ TSE_SETTINGS: JSON.stringify({ snapshotMaxAgeMs: "soon" }) })).toThrow(
      /snapshotMaxAgeMs/,
    );
    // A function reads no SSM: the parameter's name is refused, naming the variable (hosts: hostSettingsDefaults).
    expect(() => settingsDefaults({ TSE_SETTINGS_PARAMETER: "/tse/settings" })).toThrow(InvalidFieldError);
    expect(() => settingsDefaults({ TSE_SETTINGS_PARAMETER: "/tse/settings" })).toThrow(/TSE_SETTINGS_PARAMETER/);
    expect(typeof hostSettingsDefaults({ TSE_SETTINGS_PARAMETER: "/tse/settings" })).toBe("function");
    expect(hostSettingsDefaults(env)).toEqual({ snapshotMaxAgeMs: 1234 });
  });
});
