// The quoter's two streams: market data (quotes → the tick handler) and executions (→ the execution handler,
// with the bridge's back-pressure), their reconnect bookkeeping and liveness.
import type { ExchangePort, ExecutionFeed, ExecutionReport } from "../lib/ports/Exchange";
import type { MarketDataPort, MarketQuote, QuoteFeed } from "../lib/ports/MarketData";
import type { QuoterCounters, QuoterLogger } from "./types";

export interface QuoterStreamsOptions {
  exchange: ExchangePort;
  marketData: MarketDataPort;
  accountId: string;
  symbols: string[];
  venues: string[];
  marketDataIntervalMs: number;
  executionsFromSequence: number;
  reconnect: { initialDelayMs: number; maxDelayMs: number };
  counters: QuoterCounters;
  log: QuoterLogger;
  now: () => number;
  onQuote: (q: MarketQuote) => void;
  /** May return a promise (the bridge's back-pressure): the next execution is read once it settles. */
  onExecution: (e: ExecutionReport) => Promise<void> | undefined;
  lastApplied: () => number;
  /** Errors ending a loop are logged only while this says the quoter is running. */
  running: () => boolean;
}

export class QuoterStreams {
  private md: QuoteFeed | undefined;
  private exec: ExecutionFeed | undefined;
  private mdLoop: Promise<void> | undefined;
  private execLoop: Promise<void> | undefined;
  private lastMdAt = 0;
  private gapLoggedAt = Number.NEGATIVE_INFINITY;
  private gapsAtLastLog = 0;
  private execConnectsAtDrop = 0;
  private execDropped = true;

  constructor(private readonly o: QuoterStreamsOptions) {}

  open(): void {
    const { o } = this;
    const c = o.counters;
    this.exec = o.exchange.streamExecutions({
      ...o.reconnect,
      fromSequence: o.executionsFromSequence,
      accountId: o.accountId,
      onDisconnect: (err) => {
        this.execDropped = true;
        this.execConnectsAtDrop = this.exec?.connects ?? 0;
        c.executionReconnects++;
        o.log.warn("execution stream dropped; resuming from the last applied sequence", {
          lastApplied: o.lastApplied(),
          error: err?.message,
        });
      },
    });
    this.execDropped = false;
    this.execLoop = this.runExecutions(this.exec);
    this.md = o.marketData.streamQuotes({
      ...o.reconnect,
      symbols: o.symbols,
      venues: o.venues,
      updateIntervalMs: o.marketDataIntervalMs,
      onGap: (g) => {
        c.marketDataGaps++;
        c.marketDataMissed += g.missed;
        // A feed conflated to the subscription interval skips sequences on most ticks: the metric counts every
        // gap, the log says so at most every 10 s with the totals since its last line.
        const now = o.now();
        if (now - this.gapLoggedAt >= 10_000) {
          o.log.warn("market-data sequence gaps", {
            ...g,
            gapsSinceLastLog: c.marketDataGaps - this.gapsAtLastLog,
            totalGaps: c.marketDataGaps,
            totalMissed: c.marketDataMissed,
          });
          this.gapLoggedAt = now;
          this.gapsAtLastLog = c.marketDataGaps;
        }
      },
      onDisconnect: (err) => {
        c.marketDataReconnects++;
        // A restarted feed starts its sequences again: forget the old baseline so its quotes are not "stale".
        this.md?.resetSequences();
        this.lastMdAt = 0;
        o.log.warn("market-data stream dropped; reconnecting", { error: err?.message });
      },
    });
    this.mdLoop = this.runMarketData(this.md);
  }

  closeMarketData(): void {
    this.md?.close();
  }

  /** Closes the execution stream and waits (bounded) for both loops to end. */
  async close(waitMs: number): Promise<void> {
    this.exec?.close();
    await Promise.race([Promise.allSettled([this.mdLoop, this.execLoop]), new Promise((r) => setTimeout(r, waitMs))]);
  }

  marketDataLive(): boolean {
    return this.lastMdAt > 0 && this.o.now() - this.lastMdAt < Math.max(2_000, this.o.marketDataIntervalMs * 5);
  }

  executionsLive(): boolean {
    const s = this.exec;
    if (!s || s.isClosed) return false;
    if (this.execDropped) {
      if (s.connects > this.execConnectsAtDrop) this.execDropped = false;
      else return false;
    }
    return s.connects > 0;
  }

  private readonly tick = (q: MarketQuote): void => {
    this.lastMdAt = this.o.now();
    this.o.onQuote(q);
  };

  private async runMarketData(stream: QuoteFeed): Promise<void> {
    try {
      if (stream.run) await stream.run(this.tick);
      else for await (const q of stream) this.tick(q);
    } catch (err) {
      if (this.o.running()) this.o.log.error("market-data loop ended", { error: String(err) });
    }
  }

  private async runExecutions(stream: ExecutionFeed): Promise<void> {
    try {
      for await (const ex of stream) {
        this.execDropped = false;
        const bridged = this.o.onExecution(ex);
        if (bridged) await bridged; // back-pressure from the bus bridge slows reading the stream
      }
    } catch (err) {
      if (this.o.running()) this.o.log.error("execution loop ended", { error: String(err) });
    }
  }
}
