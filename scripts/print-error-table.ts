// Prints the error catalogue as the Markdown rows docs/errors.md holds (run it to refresh the page).
import { errorTableRows } from "../src/errors/sample.js";

process.stdout.write(errorTableRows().join("\n") + "\n");
