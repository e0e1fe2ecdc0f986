import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Pod } from '@kubernetes/client-node';
import { CniPluginError } from '../../src/cni/errors.ts';
import { podCapabilityArgs } from '../../src/cni/pod-capabilities.ts';

test('hostPorts become portMappings and bandwidth annotations become limits', () => {
  const pod: V1Pod = {
    metadata: { name: 'web', annotations: { 'kubernetes.io/ingress-bandwidth': '10M', 'kubernetes.io/egress-bandwidth': '1Mi' } },
    spec: {
      initContainers: [{ name: 'sidecar', restartPolicy: 'Always', ports: [{ containerPort: 9000, hostPort: 9001, protocol: 'UDP' }] }, { name: 'init', ports: [{ containerPort: 1, hostPort: 2 }] }],
      containers: [{ name: 'app', ports: [{ containerPort: 80, hostPort: 8080, hostIP: '127.0.0.1' }, { containerPort: 443 }] }],
    },
  };
  assert.deepEqual(podCapabilityArgs(pod), {
    portMappings: [
      { hostPort: 9001, containerPort: 9000, protocol: 'udp' },
      { hostPort: 8080, containerPort: 80, protocol: 'tcp', hostIP: '127.0.0.1' },
    ],
    bandwidth: { ingressRate: 10_000_000, ingressBurst: 2 ** 31 - 1, egressRate: 1_048_576, egressBurst: 2 ** 31 - 1 },
  });
  assert.deepEqual(podCapabilityArgs({ spec: { containers: [{ name: 'a' }] } }), {});
});

test('bandwidth outside the kubelet bounds is rejected with the annotation named', () => {
  for (const value of ['10', '2P', 'fast']) {
    const pod: V1Pod = { metadata: { annotations: { 'kubernetes.io/ingress-bandwidth': value } }, spec: { containers: [] } };
    assert.throws(() => podCapabilityArgs(pod), (e: unknown) => e instanceof CniPluginError && e.message.includes('kubernetes.io/ingress-bandwidth'));
  }
});
