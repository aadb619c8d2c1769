/** What every component receives besides its typed options. */
import type { Logger } from "../../observability/logger.js";

export interface ComponentContext {
  /** The Component's `metadata.name`. */
  readonly name: string;
  readonly logger: Logger;
  /** The whole metadata map as resolved from YAML (for fields the schema does not name). */
  readonly rawMetadata: Readonly<Record<string, string>>;
}
