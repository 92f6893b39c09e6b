// `tse market-data tail`: subscribe to a market-data service speaking upstream's marketdata.MarketDataService
// (or, with --quotes, our tse.marketdata.QuoteService), print every update, and end with the counts of
// received, malformed and dropped updates. Exit 1 if the stream failed or nothing arrived.
import type { Command } from "commander";
import { ClientManager } from "../../lib/grpc/ClientManager";
import { Discovery, validateEndpoint } from "../../lib/grpc/discovery";
import { decimalFromDouble, MarketDataClient, msFromTimestamp } from "../../lib/grpc/MarketDataClient";
import type { ResumableStream } from "../../lib/grpc/ResumableStream";

export class CliOptionError extends Error {
  override name = "CliOptionError";
  constructor(option: string, value: unknown, reason: string) {
    super(`invalid ${option} ${JSON.stringify(String(value).slice(0, 64))}: ${reason}`);
  }
}

function parseEndpoint(option: string, v: string): string {
  try {
    return validateEndpoint(v, option);
  } catch {
    throw new CliOptionError(option, v, "expected HOST:PORT");
  }
}

interface TailFlags {
  endpoint: string;
  symbols: string;
  seconds: string;
  intervalMs: string;
  quotes?: boolean;
  quiet?: boolean;
}

function positive(option: string, v: string, max: number): number {
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n) || n <= 0 || n > max)
    throw new CliOptionError(option, v, `expected a number > 0 and <= ${max}`);
  return n;
}

const iso = (ms: number | undefined) => (ms === undefined ? "-" : new Date(ms).toISOString());

async function tail(flags: TailFlags): Promise<number> {
  const endpoint = parseEndpoint("--endpoint", flags.endpoint);
  const seconds = positive("--seconds", flags.seconds, 86_400);
  const intervalMs = positive("--interval-ms", flags.intervalMs, 3_600_000);
  const symbols = flags.symbols
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  if (symbols.length === 0) throw new CliOptionError("--symbols", flags.symbols, "expected SYMBOL[,SYMBOL...]");
  const warn = (msg: string, attrs?: Record<string, unknown>) =>
    process.stderr.write(`warn: ${msg}${attrs ? ` ${JSON.stringify(attrs)}` : ""}\n`);
  const logger = { info() {}, debug() {}, warn };
  const manager = new ClientManager({
    discovery: new Discovery({ explicit: { "market-data": endpoint }, env: {} }),
    logger: logger as never,
  });
  const md = new MarketDataClient(manager);
  const common = { symbols, updateIntervalMs: intervalMs, logger, initialDelayMs: 200, maxDelayMs: 2_000 };
  const print = (line: string) => {
    if (!flags.quiet) process.stdout.write(`${line}\n`);
  };
  const started = Date.now();
  let stream: ResumableStream<unknown>;
  let loop: Promise<void>;
  let gaps = () => "";
  if (flags.quotes) {
    const s = md.streamQuotes(common);
    gaps = () => `, gaps ${s.gaps} (missed ${s.missed})`;
    stream = s as ResumableStream<unknown>;
    loop = (async () => {
      for await (const q of s)
        print(
          `${iso(q.timestamp)} ${q.venue} ${q.symbol} bid ${q.bid} x ${q.bidSize} ask ${q.ask} x ${q.askSize} seq ${q.sequence}`,
        );
    })();
  } else {
    const s = md.streamPrices(common);
    stream = s as ResumableStream<unknown>;
    loop = (async () => {
      for await (const u of s)
        print(
          `${iso(msFromTimestamp(u.timestamp))} ${u.symbol} ${decimalFromDouble(u.price)} volume ${decimalFromDouble(u.volume)} source ${u.source}`,
        );
    })();
  }
  let failure: unknown;
  const timer = setTimeout(() => stream.close(), seconds * 1000);
  await loop.catch((e: unknown) => {
    failure = e;
  });
  clearTimeout(timer);
  await manager.close();
  const st = stream.stats;
  const elapsed = (Date.now() - started) / 1000;
  const note = flags.quotes ? "" : " (upstream StreamPrices carries no sequence: gaps cannot be detected)";
  process.stdout.write(
    `received ${st.received}, malformed ${st.malformed}, dropped ${st.dropped}${gaps()}; ` +
      `${stream.method} from ${endpoint} for ${elapsed.toFixed(1)} s, reconnects ${st.reconnects}${note}\n`,
  );
  if (failure) {
    process.stderr.write(`tse market-data tail: ${failure instanceof Error ? failure.message : String(failure)}\n`);
    return 1;
  }
  if (st.received === 0) {
    process.stderr.write(`tse market-data tail: no updates received${st.lastError ? ` (${st.lastError})` : ""}\n`);
    return 1;
  }
  return 0;
}

export function registerMarketDataCommand(program: Command): Command {
  const md = program.command("market-data").description("talk to a market-data service");
  md.command("tail")
    .description("print the updates a market-data service streams, then the counts of received, malformed and dropped")
    .requiredOption("--endpoint <host:port>", "the market-data service (gRPC)")
    .option("--symbols <list>", "comma-separated symbols", "BTC-USD,ETH-USD")
    .option("--seconds <n>", "stop after this many seconds", "10")
    .option("--interval-ms <n>", "requested update interval (upstream never streams faster than 100 ms)", "100")
    .option("--quotes", "read our tse.marketdata.QuoteService L1 stream (sequenced) instead of upstream StreamPrices")
    .option("--quiet", "print only the final counts")
    .addHelpText(
      "after",
      `
Examples:
  $ tse market-data tail --endpoint 127.0.0.1:50055 --seconds 30
  $ tse market-data tail --endpoint 127.0.0.1:50055 --symbols BTC-USD --quotes --interval-ms 10

The last line: "received N, malformed M, dropped D; ...". Malformed = updates without a price (or, on
--quotes, without a sequence); dropped = stale or duplicate sequences. Docs: docs/grpc-clients.md`,
    )
    .action(async (flags: TailFlags) => {
      try {
        process.exitCode = await tail(flags);
      } catch (e) {
        console.error(`tse market-data tail: ${e instanceof Error ? e.message : String(e)}`);
        process.exitCode = 2;
      }
    });
  return md;
}
