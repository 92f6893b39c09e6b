// Imported first by function tests: keep Powertools' EMF and info logs out of the test output.
process.env.POWERTOOLS_METRICS_DISABLED ??= "true";
process.env.POWERTOOLS_LOG_LEVEL ??= "ERROR";
process.env.POWERTOOLS_TRACE_ENABLED ??= "false";
