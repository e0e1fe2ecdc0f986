// Guards the wire contract with real runtimes: a field number that drifts from upstream
// runtime.v1 would make us misread containerd silently.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import protobuf from 'protobufjs';
import { CRI_PROTO_PATH } from '../../src/cri/proto-loader.ts';

const root = protobuf.loadSync(CRI_PROTO_PATH);
const field = (msg: string, name: string) => root.lookupType(`runtime.v1.${msg}`).fields[name];

test('runtime.v1 fields keep upstream numbers and types', () => {
  const expected: Array<[string, string, number, string]> = [
    ['PodSandboxConfig', 'logDirectory', 3, 'string'],
    ['PodSandboxConfig', 'linux', 8, 'LinuxPodSandboxConfig'],
    ['LinuxSandboxSecurityContext', 'runAsGroup', 8, 'Int64Value'],
    ['LinuxSandboxSecurityContext', 'seccomp', 9, 'SecurityProfile'],
    ['ContainerConfig', 'linux', 15, 'LinuxContainerConfig'],
    ['ContainerConfig', 'CDIDevices', 17, 'CDIDevice'],
    ['LinuxContainerSecurityContext', 'runAsGroup', 12, 'Int64Value'],
    ['LinuxContainerSecurityContext', 'noNewPrivs', 11, 'bool'],
    ['LinuxContainerResources', 'oomScoreAdj', 5, 'int64'],
    ['ContainerStatus', 'reason', 10, 'string'],
    ['ContainerStatus', 'logPath', 15, 'string'],
    ['ContainerStatus', 'imageId', 17, 'string'],
    ['Container', 'imageId', 10, 'string'],
    ['PodSandboxStatus', 'runtimeHandler', 9, 'string'],
    ['PodSandboxNetworkStatus', 'additionalIps', 2, 'PodIP'],
    ['Namespace', 'options', 2, 'NamespaceOption'],
    ['ImageSpec', 'userSpecifiedImage', 18, 'string'],
    ['ImageSpec', 'runtimeHandler', 19, 'string'],
    ['StopContainerRequest', 'timeout', 2, 'int64'],
    ['AuthConfig', 'registryToken', 6, 'string'],
    ['StatusResponse', 'runtimeHandlers', 3, 'RuntimeHandler'],
  ];
  for (const [msg, name, id, type] of expected) {
    const f = field(msg, name);
    assert.ok(f, `${msg}.${name} is declared`);
    assert.equal(f.id, id, `${msg}.${name} number`);
    assert.equal(f.type, type, `${msg}.${name} type`);
  }
});

test('a ContainerStatus encoded by a runtime decodes into our fields', () => {
  const ContainerStatus = root.lookupType('runtime.v1.ContainerStatus');
  // Hand-built wire bytes: field 7 (exit_code, varint) = 3, field 10 (reason, bytes) = "Error".
  const bytes = Uint8Array.from([0x38, 0x03, 0x52, 0x05, ...Buffer.from('Error')]);
  const decoded = ContainerStatus.toObject(ContainerStatus.decode(bytes)) as { exitCode: number; reason: string };
  assert.equal(decoded.exitCode, 3);
  assert.equal(decoded.reason, 'Error');
});
