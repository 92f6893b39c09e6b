// The custodian simulator's books: accounts per venue and currency (available / locked / total), settlement
// instructions that settle after T+n compressed business days, transfers, and chaos (delayed, failed or
// partial settlement; balance drift). Pure state plus a `process(now)` step; the gRPC server drives the clock.

import {
  type Settlement,
  type SettlementLeg,
  SettlementStatus,
  SettlementType,
} from "../../gen/proto/tse/custodian/custodian";
import { Decimal } from "../../lib/domain/decimal";
import { InvalidFieldError } from "../../lib/domain/errors";
import { SeededRandom } from "../common/rng";

/** Opening balances: account → currency → decimal amount. */
export type CustodyBalancesInput = Readonly<Record<string, Readonly<Record<string, string>>>>;

/** What the local session and `tse sim custodian` fund: the two venues' accounts. */
export const DEFAULT_CUSTODY_BALANCES: CustodyBalancesInput = {
  "venue-a": { USD: "10000000", BTC: "100", ETH: "1000" },
  "venue-b": { USD: "10000000", BTC: "100", ETH: "1000" },
};

export interface CustodianChaos {
  /** Extra delay on every settlement, ms. */
  delayMs: number;
  /** Fraction of settlements that fail (seeded draw). */
  failureRate: number;
  /** Fraction of settlements that settle only in part (seeded draw). */
  partialRate: number;
  /** Share of each leg a partial settlement moves (0..1). */
  partialFraction: number;
  /** Fail exactly the next N settlement instructions (deterministic injection). */
  failNext: number;
  /** Every call answers UNAVAILABLE until this instant (epoch ms). */
  downUntilMs: number;
}

export const NO_CHAOS: Readonly<CustodianChaos> = {
  delayMs: 0,
  failureRate: 0,
  partialRate: 0,
  partialFraction: 0.5,
  failNext: 0,
  downUntilMs: 0,
};

export interface CustodianLedgerOptions {
  balances?: CustodyBalancesInput;
  /** One business day, compressed (ms). Default 1000: T+1 settles a second after the instruction. */
  dayMs?: number;
  /** Processing time of every settlement on top of its cycle, ms. Default 100. */
  processingMs?: number;
  /** Fail a settlement whose delivery exceeds the account's total (else the custodian extends credit). */
  rejectInsufficient?: boolean;
  chaos?: Partial<CustodianChaos>;
  seed?: number;
  now?: () => number;
}

export interface SettlementInstruction {
  idempotencyKey: string;
  settlementType: SettlementType;
  accountId: string;
  legs: readonly { currency: string; amount: string }[];
  cycleDays: number;
  tradeTimeMs: number;
  externalId?: string;
  counterpartyAccountId?: string;
}

export interface LedgerCounters {
  instructed: number;
  duplicates: number;
  settled: number;
  partial: number;
  failed: number;
  pending: number;
  transfers: number;
}

interface Holding {
  total: Decimal;
  locked: Decimal;
  updatedAt: number;
}

type Fate = { kind: "settle" } | { kind: "partial"; fraction: Decimal } | { kind: "fail"; reason: string };

interface Entry {
  s: Settlement;
  fate: Fate;
  due: number;
  amounts: Decimal[];
}

const KEY_RE = /^[A-Za-z0-9_.:#|-]{1,128}$/;
const ACCOUNT_RE = /^[A-Za-z0-9_.:-]{1,64}$/;
const CURRENCY_RE = /^[A-Z0-9]{1,20}$/;

function amount(field: string, raw: string, opts: { positive?: boolean } = {}): Decimal {
  let d: Decimal;
  try {
    d = new Decimal(raw.trim());
  } catch {
    throw new InvalidFieldError(field, raw, "not a decimal number");
  }
  if (raw.trim() === "" || !d.isFinite()) throw new InvalidFieldError(field, raw, "not a finite number");
  if (opts.positive ? d.lte(0) : d.isZero())
    throw new InvalidFieldError(field, raw, opts.positive ? "must be > 0" : "must not be 0");
  return d;
}

export class CustodianLedger {
  readonly dayMs: number;
  readonly processingMs: number;
  chaos: CustodianChaos;
  private readonly rejectInsufficient: boolean;
  private readonly now: () => number;
  private readonly rng: SeededRandom;
  private readonly accounts = new Map<string, Map<string, Holding>>();
  private readonly entries = new Map<string, Entry>();
  private readonly byKey = new Map<string, string>();
  /** Entries still pending: what process(), balances() and the pending count walk (not the whole history). */
  private readonly open = new Set<Entry>();
  private readonly listeners = new Set<(s: Settlement, seq: number) => void>();
  private seq = 0;
  private idSeq = 0;
  private readonly counters = { instructed: 0, duplicates: 0, settled: 0, partial: 0, failed: 0, transfers: 0 };

  constructor(opts: CustodianLedgerOptions = {}) {
    this.dayMs = opts.dayMs ?? 1_000;
    this.processingMs = opts.processingMs ?? 100;
    if (!(this.dayMs >= 0) || !(this.processingMs >= 0))
      throw new InvalidFieldError("dayMs", this.dayMs, "day and processing times must be >= 0 ms");
    this.rejectInsufficient = opts.rejectInsufficient ?? false;
    this.chaos = { ...NO_CHAOS, ...opts.chaos };
    this.now = opts.now ?? Date.now;
    this.rng = new SeededRandom(opts.seed ?? 1);
    const t = this.now();
    for (const [account, byCurrency] of Object.entries(opts.balances ?? DEFAULT_CUSTODY_BALANCES))
      for (const [currency, v] of Object.entries(byCurrency)) {
        const h = this.holding(account, currency, t);
        h.total = new Decimal(v);
      }
  }

  setChaos(c: Partial<CustodianChaos>): CustodianChaos {
    this.chaos = { ...this.chaos, ...c };
    return { ...this.chaos };
  }

  /** Down (chaos): every call should answer UNAVAILABLE. */
  isDown(now = this.now()): boolean {
    return now < this.chaos.downUntilMs;
  }

  /** Balance drift (chaos): the account's total moves by `delta` with no settlement behind it. */
  drift(accountId: string, currency: string, delta: string): void {
    if (!ACCOUNT_RE.test(accountId))
      throw new InvalidFieldError("account_id", accountId, "1-64 characters of [A-Za-z0-9_.:-]");
    if (!CURRENCY_RE.test(currency)) throw new InvalidFieldError("currency", currency, 'an asset code like "USD"');
    const h = this.holding(accountId, currency, this.now());
    h.total = h.total.plus(amount("delta", delta));
  }

  onEvent(listener: (s: Settlement, seq: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private holding(account: string, currency: string, at: number): Holding {
    let byCurrency = this.accounts.get(account);
    if (!byCurrency) {
      byCurrency = new Map();
      this.accounts.set(account, byCurrency);
    }
    let h = byCurrency.get(currency);
    if (!h) {
      h = { total: new Decimal(0), locked: new Decimal(0), updatedAt: at };
      byCurrency.set(currency, h);
    }
    return h;
  }

  private emit(s: Settlement): void {
    const seq = ++this.seq;
    for (const l of this.listeners) l(structuredClone(s), seq);
  }

  private fate(): Fate {
    const c = this.chaos;
    if (c.failNext > 0) {
      c.failNext--;
      return { kind: "fail", reason: "settlement failed (injected)" };
    }
    if (c.failureRate > 0 && this.rng.next() < c.failureRate)
      return { kind: "fail", reason: "settlement failed (chaos failure rate)" };
    if (c.partialRate > 0 && this.rng.next() < c.partialRate)
      return { kind: "partial", fraction: Decimal.min(1, Decimal.max(0, c.partialFraction)) };
    return { kind: "settle" };
  }

  /** Instruct a settlement; a repeated idempotency key returns the first one. Throws InvalidFieldError on bad input. */
  initiate(req: SettlementInstruction): { settlement: Settlement; duplicate: boolean } {
    if (!KEY_RE.test(req.idempotencyKey))
      throw new InvalidFieldError("idempotency_key", req.idempotencyKey, "1-128 characters of [A-Za-z0-9_.:#|-]");
    const known = this.byKey.get(req.idempotencyKey);
    if (!ACCOUNT_RE.test(req.accountId))
      throw new InvalidFieldError("account_id", req.accountId, "1-64 characters of [A-Za-z0-9_.:-]");
    if (req.settlementType === SettlementType.UNSPECIFIED || req.settlementType === SettlementType.UNRECOGNIZED)
      throw new InvalidFieldError(
        "settlement_type",
        req.settlementType,
        "must be DEPOSIT, WITHDRAWAL, TRANSFER or TRADE",
      );
    if (!Number.isInteger(req.cycleDays) || req.cycleDays < 0 || req.cycleDays > 3)
      throw new InvalidFieldError("cycle_days", req.cycleDays, "must be 0..3 (T+0..T+3)");
    if (req.legs.length === 0 || req.legs.length > 8) throw new InvalidFieldError("legs", req.legs.length, "1..8 legs");
    const amounts = req.legs.map((l, i) => {
      if (!CURRENCY_RE.test(l.currency))
        throw new InvalidFieldError(`legs.${i}.currency`, l.currency, 'an asset code like "USD"');
      return amount(`legs.${i}.amount`, l.amount);
    });
    if (known) {
      const e = this.entries.get(known)!;
      const same =
        e.s.accountId === req.accountId &&
        e.amounts.length === amounts.length &&
        e.amounts.every((a, i) => a.eq(amounts[i]!) && e.s.legs[i]!.currency === req.legs[i]!.currency);
      if (!same)
        throw new InvalidFieldError("idempotency_key", req.idempotencyKey, "already used for a different instruction");
      this.counters.duplicates++;
      return { settlement: structuredClone(e.s), duplicate: true };
    }
    const now = this.now();
    const legs: SettlementLeg[] = req.legs.map((l, i) => ({
      currency: l.currency,
      amount: amounts[i]!.toFixed(),
      settledAmount: "",
    }));
    for (const [i, l] of legs.entries())
      if (amounts[i]!.lt(0)) {
        const h = this.holding(req.accountId, l.currency, now);
        h.locked = h.locked.plus(amounts[i]!.abs());
        h.updatedAt = now;
      }
    const s: Settlement = {
      settlementId: `stl-${(++this.idSeq).toString().padStart(8, "0")}`,
      idempotencyKey: req.idempotencyKey,
      settlementType: req.settlementType,
      accountId: req.accountId,
      legs,
      status: SettlementStatus.PENDING,
      cycleDays: req.cycleDays,
      tradeTimeMs: req.tradeTimeMs || now,
      initiatedAtMs: now,
      expectedSettlementMs: now + req.cycleDays * this.dayMs + this.processingMs,
      completedAtMs: 0,
      externalId: req.externalId ?? "",
      counterpartyAccountId: req.counterpartyAccountId ?? "",
      reason: "",
      partial: false,
    };
    const entry: Entry = {
      s,
      fate: this.fate(),
      due: s.expectedSettlementMs + this.chaos.delayMs,
      amounts,
    };
    this.entries.set(s.settlementId, entry);
    this.open.add(entry);
    this.byKey.set(req.idempotencyKey, s.settlementId);
    this.counters.instructed++;
    if (req.settlementType === SettlementType.TRANSFER) this.counters.transfers++;
    this.emit(s);
    return { settlement: structuredClone(s), duplicate: false };
  }

  /** A transfer between two accounts: delivered from one, received by the other when it settles (T+0). */
  transfer(req: {
    idempotencyKey: string;
    fromAccountId: string;
    toAccountId: string;
    currency: string;
    amount: string;
  }) {
    if (!ACCOUNT_RE.test(req.toAccountId))
      throw new InvalidFieldError("to_account_id", req.toAccountId, "1-64 characters of [A-Za-z0-9_.:-]");
    if (req.toAccountId === req.fromAccountId)
      throw new InvalidFieldError("to_account_id", req.toAccountId, "must differ from from_account_id");
    const a = amount("amount", req.amount, { positive: true });
    return this.initiate({
      idempotencyKey: req.idempotencyKey,
      settlementType: SettlementType.TRANSFER,
      accountId: req.fromAccountId,
      legs: [{ currency: req.currency, amount: a.neg().toFixed() }],
      cycleDays: 0,
      tradeTimeMs: this.now(),
      counterpartyAccountId: req.toAccountId,
    });
  }

  /** Settle or fail everything due by `now`. Returns how many changed. */
  process(now = this.now()): number {
    let n = 0;
    for (const e of this.open) {
      if (e.due > now) continue;
      this.finish(e, now);
      n++;
    }
    return n;
  }

  private finish(e: Entry, now: number): void {
    const s = e.s;
    let fate = e.fate;
    if (fate.kind !== "fail" && this.rejectInsufficient) {
      const short = s.legs.find(
        (l, i) => e.amounts[i]!.lt(0) && this.holding(s.accountId, l.currency, now).total.lt(e.amounts[i]!.abs()),
      );
      if (short) fate = { kind: "fail", reason: `insufficient_funds: ${short.currency}` };
    }
    for (const [i, l] of s.legs.entries()) {
      const amt = e.amounts[i]!;
      const h = this.holding(s.accountId, l.currency, now);
      if (amt.lt(0)) h.locked = Decimal.max(0, h.locked.minus(amt.abs()));
      const moved =
        fate.kind === "fail"
          ? new Decimal(0)
          : fate.kind === "partial"
            ? amt.times(fate.fraction).toDecimalPlaces(8, Decimal.ROUND_DOWN)
            : amt;
      h.total = h.total.plus(moved);
      h.updatedAt = now;
      l.settledAmount = moved.toFixed();
      if (s.settlementType === SettlementType.TRANSFER && s.counterpartyAccountId && !moved.isZero()) {
        const to = this.holding(s.counterpartyAccountId, l.currency, now);
        to.total = to.total.minus(moved);
        to.updatedAt = now;
      }
    }
    s.completedAtMs = now;
    this.open.delete(e);
    if (fate.kind === "fail") {
      s.status = SettlementStatus.FAILED;
      s.reason = fate.reason;
      this.counters.failed++;
    } else {
      s.status = SettlementStatus.COMPLETED;
      this.counters.settled++;
      if (fate.kind === "partial") {
        s.partial = true;
        s.reason = `partial settlement: ${fate.fraction.toFixed()} of each leg`;
        this.counters.partial++;
      }
    }
    this.emit(s);
  }

  get(ref: { settlementId?: string; idempotencyKey?: string }): Settlement | undefined {
    const id = ref.settlementId || (ref.idempotencyKey ? this.byKey.get(ref.idempotencyKey) : undefined);
    const e = id ? this.entries.get(id) : undefined;
    return e ? structuredClone(e.s) : undefined;
  }

  list(
    f: { accountId?: string; statuses?: readonly SettlementStatus[]; tradeTimeAfterMs?: number } = {},
  ): Settlement[] {
    const out: Settlement[] = [];
    for (const { s } of this.entries.values()) {
      if (f.accountId && s.accountId !== f.accountId) continue;
      if (f.statuses?.length && !f.statuses.includes(s.status)) continue;
      if (f.tradeTimeAfterMs && s.tradeTimeMs <= f.tradeTimeAfterMs) continue;
      out.push(structuredClone(s));
    }
    return out;
  }

  balances(f: { accountId?: string; currency?: string } = {}) {
    const pending = new Map<string, Decimal>();
    for (const e of this.open) {
      for (const [i, l] of e.s.legs.entries()) {
        const k = `${e.s.accountId}|${l.currency}`;
        pending.set(k, (pending.get(k) ?? new Decimal(0)).plus(e.amounts[i]!));
        if (e.s.counterpartyAccountId) {
          const c = `${e.s.counterpartyAccountId}|${l.currency}`;
          pending.set(c, (pending.get(c) ?? new Decimal(0)).minus(e.amounts[i]!));
        }
      }
    }
    const out = [];
    for (const [accountId, byCurrency] of this.accounts) {
      if (f.accountId && accountId !== f.accountId) continue;
      for (const [currency, h] of byCurrency) {
        if (f.currency && currency !== f.currency) continue;
        out.push({
          accountId,
          currency,
          available: h.total.minus(h.locked).toFixed(),
          locked: h.locked.toFixed(),
          total: h.total.toFixed(),
          pending: (pending.get(`${accountId}|${currency}`) ?? new Decimal(0)).toFixed(),
          updatedAtMs: h.updatedAt,
        });
      }
    }
    return out;
  }

  getCounters(): LedgerCounters {
    return { ...this.counters, pending: this.open.size };
  }
}
