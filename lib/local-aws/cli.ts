// Manual control of this checkout's local AWS: `npx tsx lib/local-aws/cli.ts start|status|stop`.
import { ensureLocalAws, localAwsStatus, stopManagedLocalAws } from "./ensureLocalAws";

const cmd = process.argv[2] ?? "status";
if (cmd === "start") {
  // Leaves LocalStack running: its lease dies with this process, so the next test run that finishes stops it.
  const aws = await ensureLocalAws();
  console.log(
    `export AWS_ENDPOINT_URL=${aws.endpoint} AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test`,
  );
} else if (cmd === "status") {
  console.log(JSON.stringify(await localAwsStatus(), null, 2));
} else if (cmd === "stop") {
  console.log((await stopManagedLocalAws()) ? "stopped" : "nothing of this checkout was running");
} else {
  console.error(`unknown command '${cmd}': use start, status or stop`);
  process.exitCode = 2;
}
