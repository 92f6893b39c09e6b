// Imported first by tests that feed functions thousands of rejected events: no log line per rejection.
process.env.POWERTOOLS_LOG_LEVEL = "SILENT";
