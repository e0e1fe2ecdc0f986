// Allocate answers of several resources merged into one container's injection options.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mergeAllocateResponses } from '../../src/device/container-options.ts';

test('devices, mounts, envs, annotations and CDI names merge; the first claim on a path wins', () => {
  const merged = mergeAllocateResponses([
    {
      envs: { NVIDIA_VISIBLE_DEVICES: 'GPU-1' }, annotations: { 'a.example/x': '1' },
      devices: [{ host_path: '/dev/nvidia0', container_path: '/dev/nvidia0', permissions: 'rw' }, { host_path: '/dev/nvidiactl', container_path: '/dev/nvidiactl', permissions: 'rw' }],
      mounts: [{ host_path: '/usr/lib/nv', container_path: '/usr/local/nvidia', read_only: true }],
      cdi_devices: [{ name: 'nvidia.com/gpu=0' }],
    },
    {
      envs: { EXAMPLE_COM_FPGA: 'fpga0' }, annotations: {},
      devices: [{ host_path: '/other/nvidiactl', container_path: '/dev/nvidiactl', permissions: 'rwm' }, { host_path: '/d/fpga0', container_path: '/dev/fpga0', permissions: '' }],
      mounts: [{ host_path: '/elsewhere', container_path: '/usr/local/nvidia', read_only: false }],
      cdi_devices: [{ name: 'nvidia.com/gpu=0' }, { name: 'example.com/fpga=fpga0' }],
    },
  ]);
  assert.deepEqual(merged, {
    devices: [
      { hostPath: '/dev/nvidia0', containerPath: '/dev/nvidia0', permissions: 'rw' },
      { hostPath: '/dev/nvidiactl', containerPath: '/dev/nvidiactl', permissions: 'rw' },
      { hostPath: '/d/fpga0', containerPath: '/dev/fpga0', permissions: 'rwm' },
    ],
    mounts: [{ hostPath: '/usr/lib/nv', containerPath: '/usr/local/nvidia', readOnly: true }],
    envs: { NVIDIA_VISIBLE_DEVICES: 'GPU-1', EXAMPLE_COM_FPGA: 'fpga0' },
    annotations: { 'a.example/x': '1' },
    cdiDevices: ['nvidia.com/gpu=0', 'example.com/fpga=fpga0'],
  });
});
