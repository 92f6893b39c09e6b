// `tse report <report.json>`: read a report, validate it against the schema, write the HTML beside it.
import { readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { ZodError } from "zod";
import { type RenderReportOptions, renderReportHtml } from "./renderHtml";
import { parseReport } from "./reportSchema";

export class ReportFileError extends Error {
  constructor(
    readonly file: string,
    readonly field: string,
    message: string,
  ) {
    super(`${file}: ${field ? `${field}: ` : ""}${message}`);
    this.name = "ReportFileError";
  }
}

/** Renders `jsonPath` to `htmlPath` (default: report.html next to it) and returns the HTML path. */
export async function renderReportFile(
  jsonPath: string,
  htmlPath?: string,
  options: RenderReportOptions = {},
): Promise<string> {
  let text: string;
  try {
    text = await readFile(jsonPath, "utf8");
  } catch (err) {
    throw new ReportFileError(jsonPath, "", `cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ReportFileError(jsonPath, "", `not valid JSON (${(err as Error).message})`);
  }
  let report: ReturnType<typeof parseReport>;
  try {
    report = parseReport(raw);
  } catch (err) {
    if (err instanceof ZodError) {
      const issue = err.issues[0];
      const path = issue?.path.join(".") ?? "";
      throw new ReportFileError(jsonPath, path || "(root)", issue?.message ?? "invalid report");
    }
    throw err;
  }
  const out = htmlPath ?? join(dirname(jsonPath), "report.html");
  await writeFile(out, renderReportHtml(report, options));
  return out;
}
