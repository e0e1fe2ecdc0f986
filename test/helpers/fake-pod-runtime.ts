// An in-memory PodRuntime for agent tests: a sync makes a ready sandbox (with an IP) and
// runs every container; kill removes. Per pod name, tests can delay or fail the sandbox step
// and watch the calls the agent made.
import type { V1Pod } from '@kubernetes/client-node';
import type {
  ObservedContainer, PodRuntime, RuntimeHealth, RuntimeInfo, RuntimePodStatus, SyncResult,
} from '../../src/cri/runtime-manager/pod-runtime.ts';

export interface FakeCall { op: 'executePodActions' | 'killPod'; uid: string; name: string; atMs: number; gracePeriodSeconds?: number }

export class FakePodRuntime implements PodRuntime {
  readonly pods = new Map<string, RuntimePodStatus>();
  readonly calls: FakeCall[] = [];
  healthy = true;
  /** Pod name → ms the sandbox step waits. */
  readonly sandboxDelayMs = new Map<string, number>();
  /** Pod name → how many more sandbox attempts fail. */
  readonly sandboxFailures = new Map<string, number>();
  /** Pod name → how many more kills fail (the sandbox's network teardown failing, say): nothing is stopped or removed. */
  readonly killFailures = new Map<string, number>();
  private nextId = 1;
  private nextIp = 2;

  async info(): Promise<RuntimeInfo> {
    return { runtimeName: 'fake', runtimeVersion: '0.0.1', runtimeApiVersion: 'v1' };
  }

  /** Every command "succeeds" with no output: the fake runs no processes. */
  async execInContainer(): Promise<{ exitCode: number; stdout: string; stderr: string }> {
    return { exitCode: 0, stdout: '', stderr: '' };
  }

  async streamingUrl(): Promise<string> {
    throw new Error('the fake runtime has no streaming server');
  }

  /** The fake runs no processes: nothing to measure. */
  async stats(): Promise<[]> {
    return [];
  }

  async health(): Promise<RuntimeHealth> {
    return { runtimeReady: this.healthy, networkReady: this.healthy, message: this.healthy ? '' : 'fake runtime stopped' };
  }

  async executePodActions(pod: V1Pod, observed: RuntimePodStatus): Promise<SyncResult> {
    const uid = pod.metadata!.uid!;
    const name = pod.metadata!.name!;
    this.calls.push({ op: 'executePodActions', uid, name, atMs: Date.now() });
    const result: SyncResult = { failures: [], waiting: {}, events: [] };
    let state = this.pods.get(uid) ?? { uid, name, namespace: pod.metadata!.namespace ?? 'default', sandboxes: [], containers: [] };
    if (!state.sandboxes.some((s) => s.state === 'ready')) {
      const delay = this.sandboxDelayMs.get(name) ?? 0;
      if (delay) await new Promise((r) => setTimeout(r, delay));
      const failuresLeft = this.sandboxFailures.get(name) ?? 0;
      if (failuresLeft > 0) {
        this.sandboxFailures.set(name, failuresLeft - 1);
        const message = 'failed to create sandbox: injected fault';
        result.failures.push({ step: 'CreatePodSandbox', reason: 'CreatePodSandboxError', message });
        result.events.push({ type: 'Warning', reason: 'FailedCreatePodSandBox', message });
        result.retryAfterMs = 200;
        return result;
      }
      result.runtimeChanged = true;
      state = { ...state, sandboxes: [{ id: `sb-${this.nextId++}`, state: 'ready', attempt: 0, createdAtMs: Date.now(), runtimeHandler: '', ips: [`10.88.0.${this.nextIp++}`] }] };
      this.pods.set(uid, state);
    }
    const sandbox = state.sandboxes[0];
    for (const c of pod.spec?.containers ?? []) {
      if (state.containers.some((o) => o.name === c.name && o.state === 'running')) continue;
      const container: ObservedContainer = {
        id: `c-${this.nextId++}`, name: c.name, sandboxId: sandbox.id, attempt: 0, state: 'running',
        createdAtMs: Date.now(), startedAtMs: Date.now(), image: c.image ?? '', imageRef: c.image ?? '', specHash: '1',
      };
      state.containers = [container, ...state.containers];
      result.runtimeChanged = true;
      result.events.push({ type: 'Normal', reason: 'Started', message: `Started container ${c.name}`, container: c.name });
    }
    void observed;
    return result;
  }

  async killPod(target: { uid: string; name: string }, _observed: RuntimePodStatus, gracePeriodSeconds: number, remove: boolean): Promise<SyncResult> {
    this.calls.push({ op: 'killPod', uid: target.uid, name: target.name, atMs: Date.now(), gracePeriodSeconds });
    const killFailuresLeft = this.killFailures.get(target.name) ?? 0;
    if (killFailuresLeft > 0) {
      this.killFailures.set(target.name, killFailuresLeft - 1);
      const message = 'failed to destroy network for sandbox: injected fault';
      return { failures: [{ step: 'stopSandbox', reason: 'KillPodSandboxError', message }], waiting: {}, events: [{ type: 'Warning', reason: 'FailedKillPod', message }] };
    }
    const state = this.pods.get(target.uid);
    if (state) {
      if (remove) this.pods.delete(target.uid);
      else {
        state.sandboxes = state.sandboxes.map((s) => ({ ...s, state: 'notready' }));
        state.containers = state.containers.map((c) => (c.state === 'running' ? { ...c, state: 'exited', exitCode: 137, finishedAtMs: Date.now() } : c));
      }
    }
    return { failures: [], waiting: {}, events: [] };
  }

  async getPodStatus(uid: string, name: string, namespace: string): Promise<RuntimePodStatus> {
    const s = this.pods.get(uid);
    return s ? structuredClone(s) : { uid, name, namespace, sandboxes: [], containers: [] };
  }

  async relist(): Promise<RuntimePodStatus[]> {
    return [...this.pods.values()].map((p) => structuredClone(p));
  }

  async garbageCollect(): Promise<void> {}

  callsFor(name: string, op?: FakeCall['op']): FakeCall[] {
    return this.calls.filter((c) => c.name === name && (!op || c.op === op));
  }
}
