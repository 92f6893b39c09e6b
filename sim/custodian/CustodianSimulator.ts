// gRPC custodian simulator: tse.custodian.SettlementService / TransferService / CustodyService over the
// CustodianLedger, on the ecosystem's custodian port. Health is served for our service names and for the keys
// the upstream server registers ("custodian", "settlement", "custodian-simulator").
import {
  type Balance,
  type BalanceRequest,
  type BalancesResponse,
  type ChaosSettings,
  CustodianAdminServiceService,
  CustodyServiceService,
  type DriftBalanceRequest,
  type ListSettlementsRequest,
  type ListSettlementsResponse,
  type SetChaosRequest,
  type Settlement,
  type SettlementEvent,
  type SettlementRequest,
  type SettlementResponse,
  SettlementServiceService,
  type SettlementStatusRequest,
  type StreamSettlementEventsRequest,
  type TransferRequest,
  type TransferResponse,
  TransferServiceService,
} from "../../gen/proto/tse/custodian/custodian";
import { invalidArgument, notFound, unavailable } from "../common/grpcErrors";
import { StreamRegistry, streaming, unary } from "../common/handlers";
import { type ServiceEntry, SimServer, type SimServerOptions } from "../common/SimServer";
import { CustodianLedger, type CustodianLedgerOptions } from "./CustodianLedger";

export const DEFAULT_CUSTODIAN_PORT = 50053;
export const SETTLEMENT_SERVICE_NAME = "tse.custodian.SettlementService";
export const TRANSFER_SERVICE_NAME = "tse.custodian.TransferService";
export const CUSTODY_SERVICE_NAME = "tse.custodian.CustodyService";
export const CUSTODIAN_ADMIN_SERVICE_NAME = "tse.custodian.CustodianAdminService";
/** Health keys upstream's server sets SERVING (its presentation/grpc/server.go). */
export const UPSTREAM_HEALTH_KEYS = ["custodian", "settlement", "custodian-simulator"] as const;

export interface CustodianSimulatorOptions extends SimServerOptions, CustodianLedgerOptions {
  /** How often due settlements are processed, ms. Default 50. */
  tickMs?: number;
}

export class CustodianSimulator extends SimServer {
  readonly ledger: CustodianLedger;
  private readonly tickMs: number;
  private ticker: NodeJS.Timeout | undefined;
  private readonly streams = new StreamRegistry();

  constructor(opts: CustodianSimulatorOptions = {}) {
    super("custodian-sim", opts);
    this.ledger = new CustodianLedger(opts);
    this.tickMs = opts.tickMs ?? 50;
  }

  protected override onStart(): void {
    for (const k of UPSTREAM_HEALTH_KEYS) this.health.setStatus(k, "SERVING");
    this.ticker = setInterval(() => this.ledger.process(), this.tickMs);
  }

  protected override onStop(): void {
    for (const k of UPSTREAM_HEALTH_KEYS) this.health.setStatus(k, "NOT_SERVING");
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = undefined;
    this.streams.endAll();
  }

  /** Chaos "down": answer UNAVAILABLE (the engine must fail closed). */
  private up<Req, Res>(fn: (req: Req) => Res): (req: Req) => Res {
    return (req) => {
      if (this.ledger.isDown()) throw unavailable("custodian unavailable (chaos: down)");
      return fn(req);
    };
  }

  protected services(): ServiceEntry[] {
    const l = this.ledger;
    return [
      {
        name: SETTLEMENT_SERVICE_NAME,
        definition: SettlementServiceService,
        impl: {
          initiateSettlement: unary<SettlementRequest, SettlementResponse>(
            this.up((r) =>
              l.initiate({
                idempotencyKey: r.idempotencyKey,
                settlementType: r.settlementType,
                accountId: r.accountId,
                legs: r.legs,
                cycleDays: r.cycleDays,
                tradeTimeMs: r.tradeTimeMs,
                externalId: r.externalId,
                counterpartyAccountId: r.counterpartyAccountId,
              }),
            ),
          ),
          getSettlementStatus: unary<SettlementStatusRequest, Settlement>(
            this.up((r) => {
              const s = l.get(r);
              if (!s) throw notFound("settlement", r.settlementId || r.idempotencyKey);
              return s;
            }),
          ),
          listSettlements: unary<ListSettlementsRequest, ListSettlementsResponse>(
            this.up((r) => ({
              settlements: l.list({
                accountId: r.accountId,
                statuses: r.statuses,
                tradeTimeAfterMs: r.tradeTimeAfterMs,
              }),
            })),
          ),
          streamSettlementEvents: streaming<StreamSettlementEventsRequest, SettlementEvent>((call) => {
            const account = call.request.accountId;
            const off = l.onEvent((s, sequence) => {
              if (!account || s.accountId === account)
                call.write({ settlement: s, status: s.status, timestampMs: Date.now(), sequence });
            });
            this.streams.add(call, off);
          }),
        },
      },
      {
        name: TRANSFER_SERVICE_NAME,
        definition: TransferServiceService,
        impl: {
          initiateTransfer: unary<TransferRequest, TransferResponse>(this.up((r) => l.transfer(r))),
        },
      },
      {
        name: CUSTODY_SERVICE_NAME,
        definition: CustodyServiceService,
        impl: {
          getBalances: unary<BalanceRequest, BalancesResponse>(
            this.up((r) => ({
              balances: l.balances({ accountId: r.accountId, currency: r.currency }),
              asOfMs: Date.now(),
            })),
          ),
        },
      },
      {
        name: CUSTODIAN_ADMIN_SERVICE_NAME,
        definition: CustodianAdminServiceService,
        impl: {
          setChaos: unary<SetChaosRequest, ChaosSettings>((r) => {
            const c = r.chaos ?? {};
            for (const [k, v] of [
              ["failure_rate", c.failureRate],
              ["partial_rate", c.partialRate],
              ["partial_fraction", c.partialFraction],
            ] as const)
              if (v !== undefined && !(v >= 0 && v <= 1)) throw invalidArgument(`chaos.${k}`, v, "must be 0..1");
            return l.setChaos(
              Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined)) as Partial<typeof l.chaos>,
            );
          }),
          driftBalance: unary<DriftBalanceRequest, Balance>((r) => {
            l.drift(r.accountId, r.currency, r.delta);
            return l.balances({ accountId: r.accountId, currency: r.currency })[0]!;
          }),
        },
      },
    ];
  }
}
