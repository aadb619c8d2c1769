/**
 * `tandem init`: write the default resources to `$TANDEM_HOME` (a SQLite state store that is also
 * the actor state store, and a Configuration). Nothing is downloaded, no container is started, and
 * a file that exists is kept as it is.
 */
import { Command } from "commander";
import type { CliContext } from "./context.js";
import { initHome, tandemHome } from "./home.js";

export function initCommand(ctx: CliContext): Command {
  return new Command("init")
    .description("Write the default components and configuration to $TANDEM_HOME (default ~/.tandem)")
    .action(() => {
      const home = tandemHome(ctx.env);
      ctx.out(`ℹ️  Initializing Tandem in ${home}\n`);
      for (const step of initHome(home)) {
        ctx.out(step.action === "created" ? `✅  Created ${step.path}\n` : `ℹ️  Kept ${step.path} (already exists)\n`);
      }
      ctx.out(`✅  Tandem is initialized. Next: tandem run -- <your app command>\n`);
    });
}
