import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCriEndpoint } from '../../src/cri/endpoint.ts';

test('CRI endpoints: unix:// URLs and bare paths name the same socket', () => {
  assert.deepEqual(parseCriEndpoint('unix:///run/containerd/containerd.sock'),
    { target: 'unix:///run/containerd/containerd.sock', socketPath: '/run/containerd/containerd.sock' });
  assert.deepEqual(parseCriEndpoint('/run/crio/crio.sock'),
    { target: 'unix:///run/crio/crio.sock', socketPath: '/run/crio/crio.sock' });
  assert.equal(parseCriEndpoint(' unix:/tmp/x.sock ').socketPath, '/tmp/x.sock');
});

test('CRI endpoints: tcp and relative paths are refused with a clear message', () => {
  assert.throws(() => parseCriEndpoint('tcp://127.0.0.1:1234'), /only unix sockets/);
  assert.throws(() => parseCriEndpoint('run/containerd.sock'), /absolute socket path/);
  assert.throws(() => parseCriEndpoint('unix://relative.sock'), /absolute socket path/);
});
