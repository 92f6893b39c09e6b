// vitest globalSetup for the "localstack" project: provisions LocalStack (or reuses AWS_ENDPOINT_URL /
// a running one) and exposes the endpoint and dummy credentials to the test workers. A provisioning
// failure throws here, so the LocalStack tests fail; they never skip.
import type { TestProject } from "vitest/node";
import { ensureLocalAws } from "../../lib/local-aws";
import { startRecording } from "../iam/recording";

declare module "vitest" {
  export interface ProvidedContext {
    localAwsEnv: Record<string, string>;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const local = await ensureLocalAws({ log: (m) => console.error(`[local-aws] ${m}`) });
  const env: Record<string, string> = {
    AWS_ENDPOINT_URL: local.endpoint,
    AWS_REGION: "us-east-1",
    AWS_DEFAULT_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    // Every AWS request of this run, as (principal, action, resource), for the IAM evaluation (test/iam).
    TSE_AWS_REQUEST_LOG: startRecording(),
  };
  // Verified with vitest 4 (forks pool): workers start after global setup and inherit process.env.
  // The same values are also provided for tests that prefer inject("localAwsEnv").
  Object.assign(process.env, env);
  project.provide("localAwsEnv", env);
  return async () => {
    await local.stop();
  };
}
