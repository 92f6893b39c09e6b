// All-time per-method latency percentiles (HdrHistogram, 1 µs to 10 min at 3 significant digits) for
// long-running processes: `new ClientManager({ latencyHistogram: hdrLatencyHistogram })`.
import { build } from "hdr-histogram-js";
import type { LatencyHistogramFactory } from "./latency";

export const hdrLatencyHistogram: LatencyHistogramFactory = () =>
  build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 });
