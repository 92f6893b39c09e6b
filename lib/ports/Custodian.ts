// Port: the custodian, where fills settle and balances are held (one account per venue). Adapter: CustodianClient
// (lib/grpc, the tse.custodian contract). Amounts are exact decimal strings.

export type SettlementState = "PENDING" | "IN_PROGRESS" | "COMPLETED" | "FAILED" | "CANCELLED" | "UNKNOWN";

export interface SettlementLegInput {
  currency: string;
  /** Signed: positive = received by the account, negative = delivered. */
  amount: string;
}

export interface SettlementInstructionArgs {
  /** Never settles twice: the custodian answers a repeated key with the first instruction. */
  idempotencyKey: string;
  accountId: string;
  legs: readonly SettlementLegInput[];
  /** T+n, n = 0..3 business days. */
  cycleDays: number;
  tradeTimeMs: number;
  externalId?: string;
}

export interface SettlementView {
  settlementId: string;
  idempotencyKey: string;
  accountId: string;
  status: SettlementState;
  legs: { currency: string; amount: string; settledAmount: string }[];
  tradeTimeMs: number;
  partial: boolean;
  reason: string;
}

export interface CustodyBalance {
  accountId: string;
  currency: string;
  available: string;
  locked: string;
  total: string;
  /** Net signed amount of pending settlements: total + pending = the balance once everything settles. */
  pending: string;
}

export interface SettlementFilter {
  accountId?: string;
  statuses?: readonly SettlementState[];
  /** Only settlements whose trade time is after this (epoch ms). */
  tradeTimeAfterMs?: number;
}

/** Per-call options an adapter honours (the gRPC client: the overall deadline, retries included). */
export interface CustodianCallOptions {
  deadlineMs?: number;
}

export interface CustodianPort {
  instructSettlement(
    args: SettlementInstructionArgs,
    opts?: CustodianCallOptions,
  ): Promise<{ settlement: SettlementView; duplicate: boolean }>;
  getBalances(accountId?: string, opts?: CustodianCallOptions): Promise<CustodyBalance[]>;
  listSettlements(filter?: SettlementFilter, opts?: CustodianCallOptions): Promise<SettlementView[]>;
}
