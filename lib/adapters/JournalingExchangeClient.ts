// The quoter's orders in the state store. Fill handling books an execution against its order record (the
// order must exist: unknown orders are refused), and the quoter places orders straight on the exchange. So
// wherever a state store exists (the local session, the deployed quoter), the quoter's exchange client first
// writes the pending order (conditional put, idempotent by client order id), then places it, and records cancels. In-memory this costs microseconds; on LocalStack one
// DynamoDB write per order, off the quoter's decision path (the place call is already asynchronous).
// The journal keeps the last version it wrote of each live order, so a status move is one conditional write
// (no reads): on LocalStack the quoter's journal was ~75 % of all DynamoDB requests and, with 7 requests per
// order, saturated it (every function's calls queued ~150 ms behind it).
import { LRUCache } from "lru-cache";

import { OrderStatus as ExStatus } from "../../gen/proto/tse/exchange/exchange";
import { dec } from "../domain/decimal";
import { createOrder } from "../domain/orders";
import { type OrderStatus, TERMINAL_STATUSES } from "../domain/orders/orderStatus";
import { type CallOptions, ExchangeClient, type PlaceOrderArgs, RejectedError } from "../grpc";
import type { StateStore, VersionedOrder } from "../ports/StateStore";
import { VersionConflictError } from "../ports/StateStore";

export class JournalingExchangeClient extends ExchangeClient {
  journaled = 0;
  journalErrors = 0;
  /** The last version this journal wrote or read of each order it may still move (bounded). */
  private readonly known = new LRUCache<string, VersionedOrder>({ max: 10_000 });

  constructor(
    manager: ConstructorParameters<typeof ExchangeClient>[0],
    private readonly store: StateStore,
    private readonly onError: (msg: string, err: unknown) => void = () => {},
    private readonly clock: () => number = Date.now,
    /** true, or why the order may not go out now (e.g. trading HALTED). Checked after the journal write. */
    private readonly mayPlace: (strategyId: string | undefined) => true | string = () => true,
  ) {
    super(manager);
  }

  override async placeOrder(args: PlaceOrderArgs, opts?: CallOptions) {
    const now = this.clock();
    try {
      const created = await this.store.createPendingOrder(
        createOrder(
          {
            strategyId: args.strategyId ?? "quoter",
            venue: args.venue,
            symbol: args.symbol,
            side: args.side,
            type: args.type,
            timeInForce: args.timeInForce ?? "GTC",
            postOnly: args.postOnly ?? false,
            quantity: dec(args.quantity),
            ...(args.price !== undefined ? { limitPrice: dec(args.price) } : {}),
          },
          { clientOrderId: args.clientOrderId },
          now,
        ),
      );
      this.known.set(args.clientOrderId, created.created ? created.order : created.existing);
      this.journaled++;
    } catch (e) {
      // Not journaled → its fills would be refused by fill handling: don't send it.
      this.journalErrors++;
      this.onError("order not journaled; not placed", e);
      throw e;
    }
    // The journal write took time: if trading was halted meanwhile, the order must not reach the exchange.
    const gate = this.mayPlace(args.strategyId);
    if (gate !== true) {
      void this.markStatus(args.clientOrderId, "rejected");
      throw new RejectedError(`not placed: ${gate}`, "exchange", "PlaceOrder", undefined, gate);
    }
    const res = await super.placeOrder(args, opts);
    const st = res.order?.status;
    // Fills move the record themselves; what the answer alone decides is recorded here.
    const to =
      st === ExStatus.REJECTED
        ? "rejected"
        : st === ExStatus.EXPIRED
          ? "expired"
          : st === ExStatus.CANCELED
            ? "canceled"
            : "accepted";
    void this.markStatus(args.clientOrderId, to, res.order?.orderId);
    return res;
  }

  override async cancelOrder(...a: Parameters<ExchangeClient["cancelOrder"]>) {
    const res = await super.cancelOrder(...a);
    const coid = a[0].clientOrderId;
    if (coid) void this.markStatus(coid, "canceled");
    return res;
  }

  /** Best effort: the order record's status (fills move it on their own; a lost race is harmless). */
  private async markStatus(clientOrderId: string, status: OrderStatus, exchangeOrderId?: string): Promise<void> {
    // The cached copy first; a conflict (a fill moved the order) means it is stale: read it then.
    let cur = this.known.get(clientOrderId);
    try {
      for (let attempt = 0; attempt < 4; attempt++) {
        try {
          cur ??= await this.store.getOrder(clientOrderId);
          if (!cur || TERMINAL_STATUSES.has(cur.order.status) || cur.order.status === status) return;
          if (status === "accepted" && cur.order.status !== "pending-new" && cur.order.status !== "submitted") return;
          // pending-new may only move to submitted (or straight to rejected/canceled).
          const step =
            cur.order.status === "pending-new" && status !== "rejected" && status !== "canceled" ? "submitted" : status;
          cur = await this.store.updateOrderStatus(
            clientOrderId,
            cur.version,
            { status: step, at: this.clock(), ...(exchangeOrderId ? { exchangeOrderId } : {}) },
            cur.order,
          );
          this.known.set(clientOrderId, cur);
          if (step === status) return;
        } catch (e) {
          if (!(e instanceof VersionConflictError)) return; // illegal transition (a fill got there first)
          cur = undefined;
        }
      }
    } finally {
      // Nothing moves a finished order again.
      if (!cur || TERMINAL_STATUSES.has(cur.order.status)) this.known.delete(clientOrderId);
    }
  }
}
