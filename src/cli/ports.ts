/** Ports for the sidecars `tandem run` starts: free ones picked by the OS, given ones checked. */
import { createServer } from "node:net";

/** Listen on `port` (0 = any) on all interfaces; resolves with the port bound, or undefined if taken. */
function tryListen(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(undefined));
    srv.listen(port, () => {
      const addr = srv.address();
      const bound = typeof addr === "object" && addr !== null ? addr.port : undefined;
      srv.close(() => resolve(bound));
    });
  });
}

/** Hands out free ports, never the same one twice within one CLI run. */
export class PortPicker {
  private readonly taken = new Set<number>();

  /** Reserve a port the user gave; false when something already listens on it. */
  async claim(port: number): Promise<boolean> {
    if (this.taken.has(port)) return false;
    this.taken.add(port);
    return (await tryListen(port)) !== undefined;
  }

  async pick(): Promise<number> {
    for (let i = 0; i < 100; i++) {
      const port = await tryListen(0);
      if (port !== undefined && !this.taken.has(port)) {
        this.taken.add(port);
        return port;
      }
    }
    throw new Error("could not find a free port");
  }
}
