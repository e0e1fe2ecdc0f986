// The W3C trace context callers sent with each RPC (the traceparent metadata), the last few per
// RPC: the simulated runtime shows that the agent's trace reaches the runtime, as a runtime that
// traces (containerd with its OTLP plugin) would continue it.
const KEPT_PER_RPC = 50;

export class ReceivedTraceContext {
  private readonly byRpc = new Map<string, string[]>();

  record(rpc: string, traceparent: string | undefined): void {
    if (!traceparent) return;
    const list = this.byRpc.get(rpc) ?? [];
    list.push(traceparent);
    if (list.length > KEPT_PER_RPC) list.shift();
    this.byRpc.set(rpc, list);
  }

  /** Oldest first. */
  traceparents(rpc: string): string[] {
    return [...(this.byRpc.get(rpc) ?? [])];
  }
}
