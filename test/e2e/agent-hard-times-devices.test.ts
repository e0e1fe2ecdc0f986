// Hard times on a real node: a device plugin SIGKILLed. As the kubelet's device manager does
// when a plugin's endpoint goes away, its devices turn unhealthy at once: the Node keeps them in
// capacity, allocatable drops to 0 (within 1 s of the kill). When the plugin comes back and
// registers again they are allocatable again, and a running pod that holds a device keeps it
// all along: same container, no restart, the device node still there and writable.
import assert from 'node:assert/strict';
import test from 'node:test';
import { pollFor } from '../../src/world/wait.ts';
import { requireE2e } from '../helpers/e2e.ts';
import { isRunningAndReady } from '../helpers/agent-harness.ts';
import { startDeviceHarness, type DeviceHarness } from '../helpers/device-harness.ts';

const RESOURCE = 'example.com/fpga';
const unhealthyBoundS = 1;

async function execIn(h: DeviceHarness, containerId: string, cmd: string[]): Promise<{ exitCode: number; stdout: string }> {
  const res = await h.cri.execSync({ containerId, cmd, timeout: 10 });
  return { exitCode: res.exitCode, stdout: Buffer.from(res.stdout ?? []).toString('utf8') };
}

test('a device plugin killed: devices unhealthy within 1 s (capacity kept, allocatable 0), allocatable again once it re-registers, the holder keeps its device', { timeout: 240_000 }, async (t) => {
  if (!requireE2e(t)) return;
  // Periodic node status only every 10 min: the change must reach the Node through the device
  // manager's onChange, as it does on a kubelet (which updates node status on device changes).
  const h = await startDeviceHarness(t, { resource: RESOURCE, count: 2, nodeName: 'device-kill-e2e', kubeletConfig: { nodeStatusUpdateFrequency: '10m' } });
  const nodeShowsAt = (want: { capacity: string; allocatable: string }, timeoutMs: number) => pollFor(async () => {
    const seen = await h.nodeResource();
    return seen.capacity === want.capacity && seen.allocatable === want.allocatable ? performance.now() : undefined;
  }, { timeoutMs, intervalMs: 20, what: `Node ${RESOURCE} ${JSON.stringify(want)}\n${h.agentLogTail(20)}` });
  await nodeShowsAt({ capacity: '2', allocatable: '2' }, 30_000);

  await h.createPod(h.devicePod('holder'));
  const pod = (await h.waitForPod('holder', 'Running and Ready', isRunningAndReady))!;
  const containerId = pod.status!.containerStatuses![0]!.containerID!.replace(/^containerd:\/\//, '');
  const seen = await h.seenByPod('holder');
  assert.equal(seen.deviceNodes.length, 1);
  const device = seen.deviceNodes[0]!;

  const killedAt = performance.now(); // from the signal, not from our seeing the exit
  await h.killPlugin();
  const unhealthyAt = await nodeShowsAt({ capacity: '2', allocatable: '0' }, 30_000);
  const unhealthyS = Math.round((unhealthyAt - killedAt) / 10) / 100;
  await h.waitForHealthyDevices(0);

  // The holder keeps its device while the plugin is away.
  const during = await execIn(h, containerId, ['sh', '-c', `test -c /dev/${device} && echo probe > /dev/${device} && echo ok`]);
  assert.equal(during.stdout.trim(), 'ok', `the holder still has /dev/${device} while the plugin is gone`);

  const restartedAt = performance.now();
  await h.startPlugin();
  const allocatableAt = await nodeShowsAt({ capacity: '2', allocatable: '2' }, 30_000);
  const allocatableS = Math.round((allocatableAt - restartedAt) / 10) / 100;
  await h.waitForHealthyDevices(2);
  console.log(JSON.stringify({ unhealthy_after_kill_s: unhealthyS, allocatable_after_reregister_s: allocatableS }));
  assert.ok(unhealthyS <= unhealthyBoundS, `devices unhealthy ${unhealthyS} s after the kill (bound ${unhealthyBoundS} s)`);

  const after = (await h.waitForPod('holder', 'Running and Ready', isRunningAndReady))!;
  assert.equal(after.status!.containerStatuses![0]!.containerID, pod.status!.containerStatuses![0]!.containerID, 'the holder keeps its container');
  assert.equal(after.status!.containerStatuses![0]!.restartCount, 0);
  const still = await execIn(h, containerId, ['sh', '-c', `test -c /dev/${device} && echo probe > /dev/${device} && echo ok`]);
  assert.equal(still.stdout.trim(), 'ok', `the holder still has /dev/${device}`);
  // The allocation stands across the plugin's return: the next pod gets the other device.
  await h.createPod(h.devicePod('next'));
  await h.waitForPod('next', 'Running and Ready', isRunningAndReady);
  const next = await h.seenByPod('next');
  assert.equal(next.deviceNodes.length, 1);
  assert.notEqual(next.deviceNodes[0], device, 'the held device is not given twice');
});
