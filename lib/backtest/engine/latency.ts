// Feed and order latency for the backtester: a strategy sees market data `feed` ms after the exchange
// time, its orders and cancels reach the exchange `order` ms after it sent them, and acks and fills
// reach it `ack` ms after the exchange produced them. Constant or drawn from a seeded distribution.
import * as z from "zod";
import { InvalidFieldError } from "../../domain/errors";
import { seededRng } from "../../domain/strategies/Strategy";

const Ms = z.number().nonnegative().finite();
export const LatencyDistSchema = z.union([
  Ms,
  z.object({ kind: z.literal("constant"), ms: Ms }).strict(),
  z.object({ kind: z.literal("uniform"), minMs: Ms, maxMs: Ms }).strict(),
  /** exp(N(ln medianMs, sigma)), optionally capped. */
  z
    .object({ kind: z.literal("lognormal"), medianMs: z.number().positive().finite(), sigma: Ms, maxMs: Ms.optional() })
    .strict(),
]);
export type LatencyDist = z.infer<typeof LatencyDistSchema>;

export const LatencyConfigSchema = z
  .object({
    feed: LatencyDistSchema.default(0),
    order: LatencyDistSchema.default(0),
    ack: LatencyDistSchema.default(0),
    /** Seed of the distributions (default 1). */
    seed: z.number().int().optional(),
  })
  .strict();
export type LatencyConfig = z.infer<typeof LatencyConfigSchema>;
export type LatencyInput = z.input<typeof LatencyConfigSchema>;

export interface LatencyModel {
  /** All three are constant 0: the engine runs everything synchronously. */
  readonly zero: boolean;
  feed(): number;
  order(): number;
  ack(): number;
  readonly config: LatencyConfig;
}

export function createLatencyModel(input: LatencyInput = {}): LatencyModel {
  const r = LatencyConfigSchema.safeParse(input);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new InvalidFieldError(`latency.${i.path.join(".")}`, input, i.message);
  }
  const cfg = r.data;
  const rnd = seededRng(cfg.seed ?? 1);
  const gauss = (): number => {
    let u = 0;
    while (u === 0) u = rnd();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rnd());
  };
  const draw = (d: LatencyDist, field: string): (() => number) => {
    if (typeof d === "number") return () => d;
    switch (d.kind) {
      case "constant":
        return () => d.ms;
      case "uniform":
        if (d.maxMs < d.minMs) throw new InvalidFieldError(`latency.${field}.maxMs`, d.maxMs, "below minMs");
        return () => d.minMs + (d.maxMs - d.minMs) * rnd();
      case "lognormal": {
        const mu = Math.log(d.medianMs);
        const cap = d.maxMs ?? Number.POSITIVE_INFINITY;
        return () => Math.min(cap, Math.exp(mu + d.sigma * gauss()));
      }
    }
  };
  const isZero = (d: LatencyDist) => d === 0 || (typeof d === "object" && d.kind === "constant" && d.ms === 0);
  return {
    zero: isZero(cfg.feed) && isZero(cfg.order) && isZero(cfg.ack),
    feed: draw(cfg.feed, "feed"),
    order: draw(cfg.order, "order"),
    ack: draw(cfg.ack, "ack"),
    config: cfg,
  };
}

/** Min-heap of delayed actions by (time, insertion order): equal times run in the order scheduled. */
export class DelayQueue {
  private times: number[] = [];
  private seqs: number[] = [];
  private fns: (() => void)[] = [];
  private seq = 0;

  get size(): number {
    return this.fns.length;
  }
  /** Time of the earliest action, Infinity when empty. */
  peekTime(): number {
    return this.fns.length === 0 ? Number.POSITIVE_INFINITY : this.times[0]!;
  }
  push(t: number, fn: () => void): void {
    const { times, seqs, fns } = this;
    let i = fns.length;
    times.push(t);
    seqs.push(this.seq++);
    fns.push(fn);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }
  /** Remove and return the earliest action. */
  pop(): (() => void) | undefined {
    const { times, seqs, fns } = this;
    const n = fns.length;
    if (n === 0) return undefined;
    const top = fns[0]!;
    this.swap(0, n - 1);
    times.pop();
    seqs.pop();
    fns.pop();
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < fns.length && this.less(l, m)) m = l;
      if (r < fns.length && this.less(r, m)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
    return top;
  }
  private less(a: number, b: number): boolean {
    const ta = this.times[a]!;
    const tb = this.times[b]!;
    return ta < tb || (ta === tb && this.seqs[a]! < this.seqs[b]!);
  }
  private swap(a: number, b: number): void {
    const { times, seqs, fns } = this;
    [times[a], times[b]] = [times[b]!, times[a]!];
    [seqs[a], seqs[b]] = [seqs[b]!, seqs[a]!];
    [fns[a], fns[b]] = [fns[b]!, fns[a]!];
  }
}
