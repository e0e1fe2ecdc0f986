// Wraps one simulated RPC: counts it and applies injected faults, logs it, and turns thrown
// SimErrors into gRPC statuses (anything else becomes UNKNOWN, as a Go runtime would answer).
import { status, type handleUnaryCall, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { SimError } from './errors.ts';
import type { CriRpcName, FaultInjector } from './faults.ts';
import type { ReceivedTraceContext } from './received-trace-context.ts';

export interface HandlerContext {
  faults: FaultInjector;
  log: Logger;
  /** Where each call's traceparent is kept (absent: not kept). */
  traceContext?: ReceivedTraceContext;
}

export function unary<Req, Res>(ctx: HandlerContext, rpc: CriRpcName, handle: (req: Req) => Res | Promise<Res>): handleUnaryCall<Req, Res> {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
    const started = performance.now();
    void (async () => {
      try {
        ctx.traceContext?.record(rpc, call.metadata?.get('traceparent')[0]?.toString());
        await ctx.faults.before(rpc);
        const res = await handle(call.request);
        ctx.log.debug({ rpc, ms: Math.round(performance.now() - started) }, 'sim RPC');
        callback(null, res);
      } catch (err) {
        const code = err instanceof SimError ? err.code : status.UNKNOWN;
        const details = err instanceof Error ? err.message : String(err);
        ctx.log.debug({ rpc, ms: Math.round(performance.now() - started), code: status[code], err: details }, 'sim RPC failed');
        callback({ code, details });
      }
    })();
  };
}
