// MarketDataPort over the gRPC MarketDataClient (its current streamQuotes API). The generated L1Quote messages
// already carry the port's fields, so quotes pass through without a copy.
import type { MarketDataClient } from "../grpc/MarketDataClient";
import type { MarketDataPort, QuoteFeed, QuoteFeedOptions } from "../ports/MarketData";

export class GrpcMarketData implements MarketDataPort {
  constructor(readonly client: MarketDataClient) {}

  streamQuotes(opts: QuoteFeedOptions): QuoteFeed {
    const stream = this.client.streamQuotes(opts);
    return {
      close: () => stream.close(),
      resetSequences: () => stream.lastSequence.clear(),
      run: (onQuote) => stream.run(onQuote),
      [Symbol.asyncIterator]: () => stream[Symbol.asyncIterator](),
    };
  }
}
