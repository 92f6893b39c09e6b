// Typed custodian client (tse.custodian: settlement, transfer, custody) over the ClientManager: one peer
// "custodian" (channel, breaker, discovery) for the three services. Instructions carry an idempotency key, so
// they are retried like any idempotent call.
import {
  BalanceRequest,
  CustodyServiceService,
  ListSettlementsRequest,
  type Settlement,
  type SettlementEvent,
  SettlementRequest,
  SettlementServiceService,
  SettlementStatus,
  SettlementStatusRequest,
  SettlementType,
  StreamSettlementEventsRequest,
  TransferRequest,
  TransferServiceService,
} from "../../gen/proto/tse/custodian/custodian";
import type {
  CustodianPort,
  CustodyBalance,
  SettlementFilter,
  SettlementInstructionArgs,
  SettlementState,
  SettlementView,
} from "../ports/Custodian";
import type { CallOptions, ClientManager, ServiceSpec } from "./ClientManager";
import { ResumableStream, type ResumableStreamOptions } from "./ResumableStream";

export { SettlementStatus, SettlementType } from "../../gen/proto/tse/custodian/custodian";

export const SETTLEMENT_SPEC: ServiceSpec<typeof SettlementServiceService> = {
  name: "custodian",
  definition: SettlementServiceService,
  defaultDeadlineMs: 2_000,
  methods: {
    // The idempotency key makes a repeat return the first instruction.
    initiateSettlement: { idempotent: true },
    getSettlementStatus: { idempotent: true },
    listSettlements: { idempotent: true, deadlineMs: 5_000 },
  },
};
export const TRANSFER_SPEC: ServiceSpec<typeof TransferServiceService> = {
  name: "custodian",
  definition: TransferServiceService,
  methods: { initiateTransfer: { idempotent: true } },
};
export const CUSTODY_SPEC: ServiceSpec<typeof CustodyServiceService> = {
  name: "custodian",
  definition: CustodyServiceService,
  defaultDeadlineMs: 1_000,
  // The pre-trade path waits at most this long for buying power before failing closed.
  methods: { getBalances: { idempotent: true, deadlineMs: 1_000 } },
};

const STATE: Record<number, SettlementState> = {
  [SettlementStatus.PENDING]: "PENDING",
  [SettlementStatus.IN_PROGRESS]: "IN_PROGRESS",
  [SettlementStatus.COMPLETED]: "COMPLETED",
  [SettlementStatus.FAILED]: "FAILED",
  [SettlementStatus.CANCELLED]: "CANCELLED",
};
const STATUS = Object.fromEntries(Object.entries(STATE).map(([k, v]) => [v, Number(k)])) as Record<
  SettlementState,
  SettlementStatus
>;

export function settlementView(s: Settlement): SettlementView {
  return {
    settlementId: s.settlementId,
    idempotencyKey: s.idempotencyKey,
    accountId: s.accountId,
    status: STATE[s.status] ?? "UNKNOWN",
    legs: s.legs.map((l) => ({ currency: l.currency, amount: l.amount, settledAmount: l.settledAmount })),
    tradeTimeMs: s.tradeTimeMs,
    partial: s.partial,
    reason: s.reason,
  };
}

export class CustodianClient implements CustodianPort {
  constructor(private readonly manager: ClientManager) {}

  async instructSettlement(
    args: SettlementInstructionArgs,
    opts?: CallOptions,
  ): Promise<{ settlement: SettlementView; duplicate: boolean }> {
    const req = SettlementRequest.fromPartial({
      idempotencyKey: args.idempotencyKey,
      settlementType: SettlementType.TRADE,
      accountId: args.accountId,
      legs: args.legs.map((l) => ({ currency: l.currency, amount: l.amount })),
      cycleDays: args.cycleDays,
      tradeTimeMs: args.tradeTimeMs,
      externalId: args.externalId ?? "",
    });
    const res = await this.manager.unary(SETTLEMENT_SPEC, "initiateSettlement", req, opts);
    if (!res.settlement) throw new Error("custodian answered InitiateSettlement without a settlement");
    return { settlement: settlementView(res.settlement), duplicate: res.duplicate };
  }

  async getSettlement(ref: { settlementId?: string; idempotencyKey?: string }, opts?: CallOptions) {
    const s = await this.manager.unary(
      SETTLEMENT_SPEC,
      "getSettlementStatus",
      SettlementStatusRequest.fromPartial(ref),
      opts,
    );
    return settlementView(s);
  }

  async listSettlements(filter: SettlementFilter = {}, opts?: CallOptions): Promise<SettlementView[]> {
    const req = ListSettlementsRequest.fromPartial({
      accountId: filter.accountId ?? "",
      statuses: (filter.statuses ?? []).filter((s) => s !== "UNKNOWN").map((s) => STATUS[s]),
      tradeTimeAfterMs: filter.tradeTimeAfterMs ?? 0,
    });
    const res = await this.manager.unary(SETTLEMENT_SPEC, "listSettlements", req, opts);
    return res.settlements.map(settlementView);
  }

  async getBalances(accountId = "", opts?: CallOptions): Promise<CustodyBalance[]> {
    const res = await this.manager.unary(CUSTODY_SPEC, "getBalances", BalanceRequest.fromPartial({ accountId }), opts);
    return res.balances.map((b) => ({
      accountId: b.accountId,
      currency: b.currency,
      available: b.available,
      locked: b.locked,
      total: b.total,
      pending: b.pending,
    }));
  }

  async initiateTransfer(
    args: { idempotencyKey: string; fromAccountId: string; toAccountId: string; currency: string; amount: string },
    opts?: CallOptions,
  ): Promise<{ settlement: SettlementView; duplicate: boolean }> {
    const res = await this.manager.unary(TRANSFER_SPEC, "initiateTransfer", TransferRequest.fromPartial(args), opts);
    if (!res.settlement) throw new Error("custodian answered InitiateTransfer without a settlement");
    return { settlement: settlementView(res.settlement), duplicate: res.duplicate };
  }

  /** Settlement state changes, live; reconnects (events while disconnected are not replayed: list to catch up). */
  streamSettlementEvents(accountId = "", opts: ResumableStreamOptions = {}): ResumableStream<SettlementEvent> {
    const req = StreamSettlementEventsRequest.fromPartial({ accountId });
    let last = 0;
    return new ResumableStream<SettlementEvent>(
      SETTLEMENT_SPEC.name,
      "StreamSettlementEvents",
      () => this.manager.serverStream(SETTLEMENT_SPEC, "streamSettlementEvents", req),
      (e) => {
        if (e.sequence !== 0 && e.sequence <= last) return false;
        last = e.sequence;
        return true;
      },
      opts,
    );
  }
}
