// The pod a piece of work is for, as one AsyncLocalStorage: the pod worker enters it for each
// sync, kill and termination (and garbage collection for the pod it removes), and the agent's
// logger reads it in a pino `mixin`, so every line logged inside that work (the CRI client's
// 'CRI call' lines, the runtime manager's, the volume room's) carries { pod: "ns/name", uid }
// without each call site passing them. Fields a log call gives itself win over the scope's.
//
// Cost: pino calls the mixin once per log call whose level is enabled (a disabled debug line
// costs nothing more); it is one getStore() and, inside a scope, one small object
// (test/unit/pod-log-scope.test.ts measures it).
import { AsyncLocalStorage } from 'node:async_hooks';

export interface PodLogScope {
  /** "namespace/name". */
  pod: string;
  uid: string;
}

const storage = new AsyncLocalStorage<PodLogScope>();

/** Runs `fn` (and everything it starts, awaits included) inside the pod's scope. */
export function withPodLogScope<T>(scope: PodLogScope, fn: () => T): T {
  return storage.run(scope, fn);
}

/** Runs `fn` outside any pod's scope: for work one pod starts that serves every pod (a queue's
 * drain), whose lines must not name the pod that happened to start it. */
export function outsidePodLogScope<T>(fn: () => T): T {
  return storage.exit(fn);
}

/** The scope the caller runs in, if any. */
export function currentPodLogScope(): PodLogScope | undefined {
  return storage.getStore();
}

/** The pino mixin: the scope's pod and uid. pino merges into what a mixin returns, so it is a
 * fresh object each call. */
export function podLogScopeMixin(): Record<string, unknown> {
  const s = storage.getStore();
  return s === undefined ? {} : { pod: s.pod, uid: s.uid };
}
