// Device plugins on real containerd through the agent: the sample plugin (a child process)
// registers on the agent's <root-dir>/device-plugins, the Node advertises its devices, pods
// get device nodes and env from the plugin's Allocate answer, a pod that finds every device
// taken is rejected as the kubelet rejects it, allocations survive an agent crash, a deleted
// pod's device is given again, and PodResources tells which pod holds which device.
// The steps share one node and build on each other, so they run in order.
import assert from 'node:assert/strict';
import test from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { waitFor } from '../../src/world/wait.ts';
import { requireE2e } from '../helpers/e2e.ts';
import { isRunningAndReady } from '../helpers/agent-harness.ts';
import { startDeviceHarness, type DeviceHarness } from '../helpers/device-harness.ts';

const RESOURCE = 'example.com/fpga';

/** The device IDs PodResources reports for one pod's container. */
async function devicesHeld(h: DeviceHarness, pod: string, container = 'app'): Promise<string[] | undefined> {
  const entry = (await h.listPodResources()).find((p) => p.name === pod && p.namespace === 'default');
  const c = entry?.containers.find((x) => x.name === container);
  if (!c) return undefined;
  return c.devices.filter((d) => d.resource_name === RESOURCE).flatMap((d) => d.device_ids).sort();
}

function containerId(pod: V1Pod | undefined): string | undefined {
  return pod?.status?.containerStatuses?.[0]?.containerID;
}

test('device plugins: capacity, allocation, rejection, restart, release and PodResources', { timeout: 420_000 }, async (t) => {
  if (!requireE2e(t)) return;
  // Periodic node status only every 10 min: capacity can only reach the Node through the
  // device manager's onChange, which the agent must wire to a status report.
  const h = await startDeviceHarness(t, { resource: RESOURCE, count: 2, nodeName: 'device-e2e', kubeletConfig: { nodeStatusUpdateFrequency: '10m' } });
  const nodeShows = async (want: { capacity: string; allocatable: string }) => {
    let seen = {};
    await waitFor(async () => {
      seen = await h.nodeResource();
      return JSON.stringify(seen) === JSON.stringify(want);
    }, { timeoutMs: 30_000, intervalMs: 250, what: `Node ${RESOURCE} ${JSON.stringify(want)} (last ${JSON.stringify(seen)})\n${h.agentLogTail(20)}` });
  };
  let firstDevice = '';
  let firstContainer: string | undefined;
  let secondDevice = '';

  await t.test('the Node advertises the plugin devices as capacity and allocatable', async () => {
    await nodeShows({ capacity: '2', allocatable: '2' });
  });

  await t.test('a pod asking for one device runs and sees that device node and the plugin env var', async () => {
    await h.createPod(h.devicePod('fpga-a'));
    const pod = await h.waitForPod('fpga-a', 'Running and Ready', isRunningAndReady);
    firstContainer = containerId(pod);
    const seen = await h.seenByPod('fpga-a');
    assert.equal(seen.deviceNodes.length, 1, `exactly one fpga device node in the container: ${seen.deviceNodes.join(', ')}`);
    firstDevice = seen.deviceNodes[0]!;
    assert.match(firstDevice, /^fpga[01]$/);
    assert.deepEqual(seen.writable, [firstDevice], 'the device cgroup lets the container write to it');
    assert.equal(seen.env, firstDevice, 'EXAMPLE_COM_FPGA names the device the container got');
    assert.deepEqual(await devicesHeld(h, 'fpga-a'), [firstDevice], 'PodResources reports the allocation');
  });

  await t.test('after an agent crash and restart the allocation stands: the next pod gets the other device', async () => {
    await h.killAgent();
    await h.startAgent();
    // The plugin notices the new kubelet.sock and registers again; until then nothing is allocatable.
    await h.waitForHealthyDevices(2);
    await nodeShows({ capacity: '2', allocatable: '2' });
    const adopted = await h.waitForPod('fpga-a', 'still Running after the restart', isRunningAndReady);
    assert.equal(containerId(adopted), firstContainer, 'the running container was adopted, not replaced');
    assert.equal(adopted?.status?.containerStatuses?.[0]?.restartCount, 0);

    await h.createPod(h.devicePod('fpga-b'));
    await h.waitForPod('fpga-b', 'Running and Ready', isRunningAndReady);
    const seen = await h.seenByPod('fpga-b');
    assert.equal(seen.deviceNodes.length, 1);
    secondDevice = seen.deviceNodes[0]!;
    assert.notEqual(secondDevice, firstDevice, 'the device held before the restart is not given twice');
    assert.deepEqual(seen.writable, [secondDevice]);
    assert.equal(seen.env, secondDevice);
    assert.deepEqual(await devicesHeld(h, 'fpga-a'), [firstDevice], 'the restarted agent still reports the first allocation');
    // By now the restarted agent has synced fpga-a again: re-admitted, not rejected and killed.
    const first = await h.core.readNamespacedPod({ name: 'fpga-a', namespace: 'default' });
    assert.equal(first.status?.phase, 'Running', `fpga-a after the restart: ${first.status?.reason} ${first.status?.message}`);
    assert.equal(containerId(first), firstContainer);
  });

  await t.test('with every device taken the next pod is rejected with UnexpectedAdmissionError and leaves nothing behind', async () => {
    await h.createPod(h.devicePod('fpga-c'));
    const pod = (await h.waitForPod('fpga-c', 'phase Failed', (p) => p?.status?.phase === 'Failed'))!;
    assert.equal(pod.status?.reason, 'UnexpectedAdmissionError');
    assert.match(pod.status?.message ?? '', /requested number of devices unavailable for example\.com\/fpga\. Requested: 1, Available: 0/);
    assert.deepEqual(await h.sandboxesOf(pod.metadata!.uid!), [], 'no sandbox for a rejected pod');
    const held = await devicesHeld(h, 'fpga-c');
    assert.ok(!held?.length, `the rejected pod holds no device (${held})`);
    assert.deepEqual(await h.nodeResource(), { capacity: '2', allocatable: '2' }, 'allocatable counts healthy devices, not free ones');
  });

  await t.test('a deleted pod frees its device: a new pod gets it', async () => {
    await h.core.deleteNamespacedPod({ name: 'fpga-a', namespace: 'default' });
    await h.waitForPodGone('fpga-a');
    await h.createPod(h.devicePod('fpga-d'));
    await h.waitForPod('fpga-d', 'Running and Ready', isRunningAndReady);
    const seen = await h.seenByPod('fpga-d');
    assert.deepEqual(seen.deviceNodes, [firstDevice], 'the freed device is given to the new pod');
    assert.deepEqual(seen.writable, [firstDevice]);
    assert.equal(seen.env, firstDevice);
  });

  await t.test('PodResources List names each pod, namespace, container, resource and device', async () => {
    const list = await h.listPodResources();
    const holding = list
      .flatMap((p) => p.containers.flatMap((c) => c.devices.map((d) => ({ pod: p.name, namespace: p.namespace, container: c.name, resource: d.resource_name, devices: [...d.device_ids].sort() }))))
      .sort((a, b) => a.pod.localeCompare(b.pod));
    assert.deepEqual(holding, [
      { pod: 'fpga-b', namespace: 'default', container: 'app', resource: RESOURCE, devices: [secondDevice] },
      { pod: 'fpga-d', namespace: 'default', container: 'app', resource: RESOURCE, devices: [firstDevice] },
    ]);
    const allocatable = await h.allocatableDevices();
    assert.deepEqual(allocatable.map((d) => ({ resource: d.resource_name, devices: [...d.device_ids].sort() })), [{ resource: RESOURCE, devices: ['fpga0', 'fpga1'] }]);
  });

  await t.test('a device reported unhealthy leaves allocatable but stays in capacity, and comes back when healthy', async () => {
    await h.setDeviceHealth(secondDevice, false);
    await nodeShows({ capacity: '2', allocatable: '1' });
    assert.deepEqual((await h.allocatableDevices()).flatMap((d) => d.device_ids), [firstDevice]);
    const holder = await h.waitForPod('fpga-b', 'Running', (p) => p?.status?.phase === 'Running');
    assert.equal(holder?.status?.containerStatuses?.[0]?.restartCount, 0, 'the pod holding it keeps running, as with the kubelet');
    await h.setDeviceHealth(secondDevice, true);
    await nodeShows({ capacity: '2', allocatable: '2' });
  });

  await t.test('once both holders are deleted, a pod asking for two devices gets both', async () => {
    await Promise.all(['fpga-b', 'fpga-d'].map((name) => h.core.deleteNamespacedPod({ name, namespace: 'default' })));
    await Promise.all(['fpga-b', 'fpga-d'].map((name) => h.waitForPodGone(name)));
    await h.createPod(h.devicePod('fpga-pair', 2));
    await h.waitForPod('fpga-pair', 'Running and Ready', isRunningAndReady);
    const seen = await h.seenByPod('fpga-pair');
    assert.deepEqual(seen.deviceNodes, ['fpga0', 'fpga1']);
    assert.deepEqual(seen.writable, ['fpga0', 'fpga1']);
    assert.deepEqual(seen.env.split(',').sort(), ['fpga0', 'fpga1']);
    assert.deepEqual(await devicesHeld(h, 'fpga-pair'), ['fpga0', 'fpga1']);
  });

  await t.test('a plugin that stops takes its devices out of allocatable, not yet out of capacity', async () => {
    await h.stopPlugin();
    await nodeShows({ capacity: '2', allocatable: '0' });
    await h.waitForHealthyDevices(0);
  });
});
