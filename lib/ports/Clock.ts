// The clock port: epoch milliseconds. The domain has no clock of its own; hosts inject this one (the
// backtester's is the quote time, the quoter's and the functions' the wall clock, tests a fake).
export type Clock = () => number;

export const systemClock: Clock = Date.now;
