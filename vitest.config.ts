import { defineConfig } from "vitest/config";

// Two projects: "fast" needs nothing but Node (domain, gRPC on loopback, CDK);
// "localstack" gets LocalStack provisioned by its global setup and fails (never skips) without it.
export default defineConfig({
  test: {
    reporters: ["default", "json"],
    outputFile: { json: "test-output/vitest.json" },
    projects: [
      {
        test: {
          name: "fast",
          include: [
            "test/unit/**/*.test.ts",
            "test/grpc/**/*.test.ts",
            "test/cdk/**/*.test.ts",
            "test/e2e-embedded/**/*.test.ts",
          ],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: "localstack",
          include: ["test/localstack/**/*.test.ts"],
          globalSetup: ["test/setup/localstack.global.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
