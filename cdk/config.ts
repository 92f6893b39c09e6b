// Per-environment settings of the stack, chosen with `-c env=dev|prod` (default dev).
import { Duration, RemovalPolicy } from "aws-cdk-lib";

export type EnvName = "dev" | "prod";
export const ENV_NAMES: readonly EnvName[] = ["dev", "prod"];

export interface EnvConfig {
  envName: EnvName;
  /** Table and archive survive stack deletion, and the table refuses deletion. */
  retainData: boolean;
  removalPolicy: RemovalPolicy;
  /** How long the bus archive keeps events for replay. */
  archiveRetention: Duration;
  /** EventBridge → target retry policy. */
  targetMaxEventAge: Duration;
  targetRetryAttempts: number;
  /** How long rule DLQs keep undeliverable events. */
  dlqRetention: Duration;
  logRetentionDays: number;
  /** Reporting schedule (only created once the reporting function exists). */
  reportingRate: Duration;
  /** Reconciliation schedule (only created once the settlement function exists). */
  reconciliationRate: Duration;
}

export function envConfig(envName: unknown): EnvConfig {
  if (envName !== "dev" && envName !== "prod")
    throw new Error(`context 'env' must be one of ${ENV_NAMES.join(", ")}; got ${JSON.stringify(envName)}`);
  const prod = envName === "prod";
  return {
    envName,
    retainData: prod,
    removalPolicy: prod ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    archiveRetention: Duration.days(prod ? 365 : 7),
    targetMaxEventAge: Duration.hours(prod ? 6 : 1),
    targetRetryAttempts: prod ? 8 : 3,
    dlqRetention: Duration.days(14),
    logRetentionDays: prod ? 90 : 7,
    reportingRate: Duration.minutes(prod ? 5 : 15),
    reconciliationRate: Duration.minutes(prod ? 5 : 15),
  };
}
