// GetContainerEvents of the simulated runtime: every open stream gets one event per lifecycle
// change (lifecycle-feed.ts), carrying the sandbox's status and all its containers' statuses
// as they are right after it, as containerd 1.7+ sends them. With events off the RPC answers
// UNIMPLEMENTED, as containerd 1.6 does, so the agent's fallback to relisting can be exercised.
// Injected faults apply when a stream opens (a failed open ends it with that status).
import { Metadata, status, type ServerWritableStream, type handleServerStreamingCall } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { ContainerEventResponse } from '../generated/runtime/v1/ContainerEventResponse.ts';
import type { GetEventsRequest__Output } from '../generated/runtime/v1/GetEventsRequest.ts';
import { nowNs } from './clock.ts';
import type { ContainerStore } from './containers.ts';
import { SimError } from './errors.ts';
import type { FaultInjector } from './faults.ts';
import type { LifecycleChange, LifecycleFeed } from './lifecycle-feed.ts';
import { containerStatus, sandboxStatus } from './runtime-service.ts';
import type { SandboxStore } from './sandboxes.ts';

type EventCall = ServerWritableStream<GetEventsRequest__Output, ContainerEventResponse>;

export interface ContainerEventStreamsDeps {
  feed: LifecycleFeed;
  sandboxes: SandboxStore;
  containers: ContainerStore;
  faults: FaultInjector;
  log: Logger;
  /** false: answer UNIMPLEMENTED (containerd 1.6). */
  enabled: boolean;
}

export interface ContainerEventStreams {
  handler: handleServerStreamingCall<GetEventsRequest__Output, ContainerEventResponse>;
  /** Ends every open stream: a stopping server would otherwise wait for them. */
  endAll(): void;
}

export function containerEventStreams(deps: ContainerEventStreamsDeps): ContainerEventStreams {
  const open = new Map<EventCall, () => void>();
  const close = (call: EventCall) => {
    open.get(call)?.();
    open.delete(call);
  };

  const eventOf = (change: LifecycleChange): ContainerEventResponse => {
    const sandbox = deps.sandboxes.find(change.sandboxId);
    return {
      containerId: change.containerId,
      containerEventType: change.type,
      createdAt: nowNs(),
      podSandboxStatus: sandbox ? sandboxStatus(sandbox) : null,
      containersStatuses: sandbox ? deps.containers.inSandbox(sandbox.id).map(containerStatus) : [],
    };
  };

  const handler = (call: EventCall) => {
    if (!deps.enabled) {
      call.emit('error', { code: status.UNIMPLEMENTED, details: 'unknown method GetContainerEvents for service runtime.v1.RuntimeService' });
      return;
    }
    void (async () => {
      try {
        await deps.faults.before('GetContainerEvents');
      } catch (err) {
        const code = err instanceof SimError ? err.code : status.UNKNOWN;
        call.emit('error', { code, details: err instanceof Error ? err.message : String(err) });
        return;
      }
      if (call.cancelled) return;
      // Headers at once: the client learns the stream is served before the first event.
      call.sendMetadata(new Metadata());
      open.set(call, deps.feed.listen((change) => {
        if (!call.cancelled) call.write(eventOf(change));
      }));
      call.on('cancelled', () => close(call));
      deps.log.debug({ rpc: 'GetContainerEvents', streams: open.size }, 'sim event stream opened');
    })();
  };

  return {
    handler,
    endAll() {
      for (const call of [...open.keys()]) {
        close(call);
        call.end();
      }
    },
  };
}
