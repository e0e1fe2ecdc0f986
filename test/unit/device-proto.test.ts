// Our .proto files must put every field where the kubelet and existing plugins expect it:
// on the wire only numbers and types count. Expected numbers are those of the published
// deviceplugin v1beta1 and podresources v1 APIs.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import protobuf from 'protobufjs';

/** Loads with field names as written, as our gRPC loader does (keepCase). */
function load(name: string): protobuf.Root {
  const root = new protobuf.Root();
  return root.loadSync(fileURLToPath(new URL(`../../src/device/proto/${name}`, import.meta.url)), { keepCase: true });
}

function fieldsOf(root: protobuf.Root, type: string): Record<string, string> {
  const t = root.lookupType(type);
  return Object.fromEntries(Object.values(t.fields).map((f) => [f.name, `${f.id} ${f.repeated ? 'repeated ' : ''}${f instanceof protobuf.MapField ? `map<${f.keyType},${f.type}>` : f.type}`]));
}

describe('deviceplugin v1beta1 wire layout', () => {
  const root = load('deviceplugin-v1beta1.proto');
  const expected: Record<string, Record<string, string>> = {
    RegisterRequest: { version: '1 string', endpoint: '2 string', resource_name: '3 string', options: '4 DevicePluginOptions' },
    DevicePluginOptions: { pre_start_required: '1 bool', get_preferred_allocation_available: '2 bool' },
    Device: { ID: '1 string', health: '2 string', topology: '3 TopologyInfo' },
    NUMANode: { ID: '1 int64' },
    ListAndWatchResponse: { devices: '1 repeated Device' },
    ContainerPreferredAllocationRequest: { available_deviceIDs: '1 repeated string', must_include_deviceIDs: '2 repeated string', allocation_size: '3 int32' },
    ContainerPreferredAllocationResponse: { deviceIDs: '1 repeated string' },
    ContainerAllocateRequest: { devices_ids: '1 repeated string' },
    ContainerAllocateResponse: {
      envs: '1 map<string,string>', mounts: '2 repeated Mount', devices: '3 repeated DeviceSpec', annotations: '4 map<string,string>', cdi_devices: '5 repeated CDIDevice',
    },
    Mount: { container_path: '1 string', host_path: '2 string', read_only: '3 bool' },
    DeviceSpec: { container_path: '1 string', host_path: '2 string', permissions: '3 string' },
    PreStartContainerRequest: { devices_ids: '1 repeated string' },
  };
  for (const [type, fields] of Object.entries(expected)) {
    test(type, () => assert.deepEqual(fieldsOf(root, `v1beta1.${type}`), fields));
  }
  test('services and methods keep their names (they are part of the gRPC path)', () => {
    const methods = (s: string) => Object.keys(root.lookupService(`v1beta1.${s}`).methods);
    assert.deepEqual(methods('Registration'), ['Register']);
    assert.deepEqual(methods('DevicePlugin'), ['GetDevicePluginOptions', 'ListAndWatch', 'GetPreferredAllocation', 'Allocate', 'PreStartContainer']);
    assert.equal(root.lookupService('v1beta1.DevicePlugin').methods.ListAndWatch.responseStream, true);
  });
});

describe('podresources v1 wire layout', () => {
  const root = load('podresources-v1.proto');
  const expected: Record<string, Record<string, string>> = {
    ListPodResourcesResponse: { pod_resources: '1 repeated PodResources' },
    PodResources: { name: '1 string', namespace: '2 string', containers: '3 repeated ContainerResources' },
    ContainerResources: { name: '1 string', devices: '2 repeated ContainerDevices', cpu_ids: '3 repeated int64', memory: '4 repeated ContainerMemory', dynamic_resources: '5 repeated DynamicResource' },
    ContainerDevices: { resource_name: '1 string', device_ids: '2 repeated string', topology: '3 TopologyInfo' },
    AllocatableResourcesResponse: { devices: '1 repeated ContainerDevices', cpu_ids: '2 repeated int64', memory: '3 repeated ContainerMemory' },
    GetPodResourcesRequest: { pod_name: '1 string', pod_namespace: '2 string' },
    GetPodResourcesResponse: { pod_resources: '1 PodResources' },
  };
  for (const [type, fields] of Object.entries(expected)) {
    test(type, () => assert.deepEqual(fieldsOf(root, `v1.${type}`), fields));
  }
  test('PodResourcesLister offers List, GetAllocatableResources and Get', () => {
    assert.deepEqual(Object.keys(root.lookupService('v1.PodResourcesLister').methods), ['List', 'GetAllocatableResources', 'Get']);
  });
});
