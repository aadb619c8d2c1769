/** `--data` / `--data-file` of `tandem invoke` and `tandem publish`: one of the two, or neither. */
import { readFileSync } from "node:fs";
import { CliError } from "./context.js";

export function requestBody(data: string | undefined, dataFile: string | undefined): string | undefined {
  if (data !== undefined && dataFile !== undefined) throw new CliError("give either --data or --data-file, not both");
  if (dataFile === undefined) return data;
  try {
    return readFileSync(dataFile, "utf8");
  } catch (err) {
    throw new CliError(`cannot read --data-file ${dataFile}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}
