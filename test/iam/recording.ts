// Where the LocalStack run records its AWS requests (test-output/aws-requests/, git-ignored): one JSONL of
// requests (lib/adapters/aws/requestRecorder.ts writes it, from every test worker and spawned quoter) and one of
// the test files that ran, with whether all their tests passed. The IAM evaluation (test/iam) reads both.
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { RecordedRequest } from "../../lib/adapters/aws/requestRecorder";

export const REPO = path.resolve(import.meta.dirname, "../..");
export const RECORDING_DIR = path.join(REPO, "test-output", "aws-requests");
const REQUESTS = path.join(RECORDING_DIR, "requests.jsonl");
const FILES = path.join(RECORDING_DIR, "files.jsonl");

/** Start a fresh recording (the localstack project's global setup); returns the requests file. */
export function startRecording(): string {
  mkdirSync(RECORDING_DIR, { recursive: true });
  writeFileSync(REQUESTS, "");
  writeFileSync(FILES, "");
  return REQUESTS;
}

export function markFileDone(file: string, ok: boolean): void {
  appendFileSync(FILES, `${JSON.stringify({ file, ok })}\n`);
}

export interface Recording {
  requests: RecordedRequest[];
  files: { file: string; ok: boolean }[];
}

const jsonl = <T>(p: string): T[] =>
  existsSync(p)
    ? readFileSync(p, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as T)
    : [];

/** The recording; only requests made by a LocalStack test file (or a process it spawned) count. */
export function readRecording(): Recording {
  return {
    requests: jsonl<RecordedRequest>(REQUESTS).filter((r) => r.source?.startsWith("test/localstack/")),
    files: jsonl<{ file: string; ok: boolean }>(FILES),
  };
}
