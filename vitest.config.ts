import { defineConfig } from "vitest/config";

// Four projects: "fast" needs nothing but Node (domain, gRPC on loopback, CDK); "fresh-clone" installs into a
// fresh clone (needs the npm registry or a warm npm cache);
// "localstack" gets LocalStack provisioned by its global setup and fails (never skips) without it;
// "iam" runs after them (groupOrder) and evaluates the AWS requests the localstack run recorded.
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
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          // One real `npm ci` into a fresh clone (about a minute): kept out of "fast" on purpose.
          name: "fresh-clone",
          include: ["test/fresh-clone/**/*.test.ts"],
          testTimeout: 420_000,
          hookTimeout: 120_000, // removing the clone's node_modules
        },
      },
      {
        test: {
          name: "localstack",
          include: ["test/localstack/**/*.test.ts"],
          globalSetup: ["test/setup/localstack.global.ts"],
          setupFiles: ["test/setup/awsRecording.setup.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
      {
        // Evaluates the AWS requests the localstack project recorded against the synthesized IAM policies:
        // a later group, so it starts only after every localstack file has finished.
        test: {
          name: "iam",
          include: ["test/iam/**/*.test.ts"],
          testTimeout: 120_000,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
