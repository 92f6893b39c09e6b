// Settings layering on LocalStack SSM + the configuration simulator: a host's SSM parameter defaults (the deployed
// functions take TSE_SETTINGS instead) under the configuration service's live values; a bad parameter is a typed error naming it.
import "../support/quietPowertools";
import { DeleteParameterCommand, PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigServiceSettingsSource, parseEngineSettings } from "../../lib/app/settings";
import { loadSettingsParameter } from "../../lib/app/wiring/ssmSettings";
import { InvalidFieldError } from "../../lib/domain/errors";
import { type EngineRig, startEngineRig } from "../support/engineRig";

const ssm = new SSMClient({
  endpoint: process.env.AWS_ENDPOINT_URL,
  region: process.env.AWS_REGION ?? "us-east-1",
  credentials: { accessKeyId: "test", secretAccessKey: "test" },
});
const prefix = `/tse-test/${process.pid}-${Date.now().toString(36)}`;
let rig: EngineRig | undefined;
afterAll(async () => {
  await rig?.stop();
  for (const n of ["ok", "bad-json", "bad-value"])
    await ssm.send(new DeleteParameterCommand({ Name: `${prefix}/${n}` })).catch(() => {});
});

describe("function settings: SSM defaults under the configuration service", () => {
  it("reads the SSM JSON and lets the configuration service's values win", async () => {
    const defaults = parseEngineSettings({
      snapshotMaxAgeMs: 2000,
      arbitrage: { maxQuantity: "0.2", minSpreadBps: 30 },
      reporting: { debounceMs: 30_000 },
    });
    await ssm.send(
      new PutParameterCommand({
        Name: `${prefix}/ok`,
        Type: "String",
        Value: JSON.stringify(defaults),
        Overwrite: true,
      }),
    );
    rig = await startEngineRig({ now: Date.now() });
    const source = new ConfigServiceSettingsSource(rig.peers.config, () => loadSettingsParameter(`${prefix}/ok`, ssm));
    const s = await source.get();
    // config/defaults.yaml: strategies.arbitrage = { min_edge_bps: 10, max_size: "0.05", … }
    expect(s.arbitrage.minSpreadBps).toBe(10);
    expect(s.arbitrage.maxQuantity).toBe("0.05");
    // Not in the configuration service: the SSM defaults stand.
    expect(s.snapshotMaxAgeMs).toBe(2000);
    expect(s.reporting.debounceMs).toBe(30_000);
  });

  it("a parameter that is not valid settings JSON is refused, naming the parameter and the value", async () => {
    await ssm.send(
      new PutParameterCommand({ Name: `${prefix}/bad-json`, Type: "String", Value: "{not json", Overwrite: true }),
    );
    const e1 = await loadSettingsParameter(`${prefix}/bad-json`, ssm).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(InvalidFieldError);
    expect((e1 as InvalidFieldError).field).toBe(`${prefix}/bad-json`);
    expect((e1 as InvalidFieldError).value).toBe("{not json");
    await ssm.send(
      new PutParameterCommand({
        Name: `${prefix}/bad-value`,
        Type: "String",
        Value: '{"snapshotMaxAgeMs":-5}',
        Overwrite: true,
      }),
    );
    const e2 = await loadSettingsParameter(`${prefix}/bad-value`, ssm).catch((e: unknown) => e);
    expect(e2).toBeInstanceOf(InvalidFieldError);
    expect((e2 as InvalidFieldError).field).toBe("settings.snapshotMaxAgeMs");
    expect((e2 as InvalidFieldError).value).toBe(-5);
  });
});
