// THE price table of the cost model (bench/cost.bench.ts): public on-demand list prices, us-east-1, no free tier,
// no tiered discounts. `source` is the AWS page of each price. Checked on 2026-12-04 through stored copies of
// public pages (the AWS pages themselves were not reachable from here): cloudburn.io's EventBridge and SQS guides
// (March 2026, us-east-1), airbyte.com's DynamoDB pricing page (July 2025: the 50 % on-demand cut of 1 November 2024),
// a Lambda cost note quoting the arm64 / x86 GB-second rates, and AWS's "DynamoDB item sizes and formats".
export const PRICES_CHECKED_ON = "2026-12-04";

export const PRICES = {
  /** EventBridge custom events: per million entries put, each 64 KB chunk of an entry billed as one. */
  eventBridgePutEventsPerMillion: {
    usd: 1.0,
    chunkBytes: 64 * 1024,
    source: "https://aws.amazon.com/eventbridge/pricing/",
  },
  /** Lambda requests (invocations, retries included). */
  lambdaRequestsPerMillion: { usd: 0.2, source: "https://aws.amazon.com/lambda/pricing/" },
  /** Lambda duration, first pricing tier, billed in 1 ms steps. The stack deploys arm64 (cdk/TradingEngineStack.ts). */
  lambdaGbSecond: {
    arm64: 0.0000133334,
    x86_64: 0.0000166667,
    source: "https://aws.amazon.com/lambda/pricing/",
  },
  /** DynamoDB on-demand, Standard table class. */
  dynamoDbWriteRequestUnitsPerMillion: { usd: 0.625, source: "https://aws.amazon.com/dynamodb/pricing/on-demand/" },
  dynamoDbReadRequestUnitsPerMillion: { usd: 0.125, source: "https://aws.amazon.com/dynamodb/pricing/on-demand/" },
  /** SQS standard queue requests (the rule DLQs), each 64 KB chunk billed as one request (engine events are < 64 KB). */
  sqsRequestsPerMillion: { usd: 0.4, source: "https://aws.amazon.com/sqs/pricing/" },
} as const;

/**
 * Model assumptions for Lambda duration (not prices, but stated here so the whole model is in one place):
 * - Lambda gives a function CPU in proportion to memory, one full vCPU at 1769 MB
 *   (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html), so CPU-bound time measured on one core
 *   here is scaled by 1769 / memory below that;
 * - each sequential DynamoDB or PutEvents round of an invocation waits an in-region round trip, which the in-memory
 *   adapters of the replay do not: DynamoDB "single-digit millisecond" (https://aws.amazon.com/dynamodb/), taken as
 *   5 ms, and PutEvents taken as 10 ms.
 */
export const DURATION_MODEL = {
  fullVcpuMemoryMb: 1769,
  dynamoDbRoundMs: 5,
  putEventsRoundMs: 10,
} as const;
