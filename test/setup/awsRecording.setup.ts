// setupFile of the localstack project: names the test file on every AWS request it records, and marks the
// file done (with whether all its tests passed) so the IAM evaluation can tell a complete recording.
import path from "node:path";
import { afterAll, beforeAll } from "vitest";
import { markFileDone, REPO } from "../iam/recording";

type Task = { result?: { state?: string }; tasks?: Task[] };
const failed = (t: Task): boolean => t.result?.state === "fail" || (t.tasks ?? []).some(failed);
let file = "";

// biome-ignore lint/correctness/noEmptyPattern: vitest 4 wants a destructured fixtures argument before the suite
beforeAll(({}, suite) => {
  const s = suite as unknown as { filepath?: string; file?: { filepath: string } };
  file = path.relative(REPO, s.file?.filepath ?? s.filepath ?? "");
  process.env.TSE_AWS_REQUEST_SOURCE = file;
});

// biome-ignore lint/correctness/noEmptyPattern: as above
afterAll(({}, suite) => {
  markFileDone(file, !failed(suite as unknown as Task));
});
