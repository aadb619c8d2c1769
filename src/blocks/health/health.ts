/**
 * Readiness as daprd reports it: `/v1.0/healthz` is ready when every target is; the outbound
 * health is ready once components are loaded and the API servers are up.
 */
export class HealthBlock {
  private readonly pending = new Set<string>();
  private outbound = false;

  constructor(initialTargets: readonly string[]) {
    for (const t of initialTargets) this.pending.add(t);
  }

  markPending(target: string): void {
    this.pending.add(target);
  }

  markReady(target: string): void {
    this.pending.delete(target);
  }

  markOutboundReady(): void {
    this.outbound = true;
  }

  /** The targets not ready yet (empty = ready). */
  unready(): string[] {
    return [...this.pending];
  }

  isOutboundReady(): boolean {
    return this.outbound;
  }
}
