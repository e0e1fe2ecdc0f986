// What a plugin may register: the kubelet's API version and extended-resource name rules.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { extendedResourceNameError, isExtendedResourceName } from '../../src/device/resource-name.ts';
import { registrationError } from '../../src/device/registration-server.ts';

describe('extended resource names', () => {
  const valid = ['example.com/fpga', 'nvidia.com/gpu', 'amd.com/gpu', 'gpu.intel.com/i915', 'example.com/my_dev.v2'];
  const invalid: Array<[string, RegExp]> = [
    ['fpga', /no domain prefix/],
    ['kubernetes.io/fpga', /reserved for native resources/],
    ['node.kubernetes.io/fpga', /reserved for native resources/],
    ['requests.example.com/fpga', /may not start with "requests\."/],
    ['Example.com/fpga', /invalid domain/],
    ['example.com/', /invalid name part/],
    ['example.com/-fpga', /invalid name part/],
    [`example.com/${'a'.repeat(64)}`, /invalid name part/],
  ];
  for (const name of valid) test(`accepts ${name}`, () => assert.equal(extendedResourceNameError(name), undefined));
  for (const [name, why] of invalid) test(`refuses ${name.slice(0, 30)}`, () => assert.match(extendedResourceNameError(name) ?? '', why));
  test('native resources are not extended resources', () => {
    for (const name of ['cpu', 'memory', 'hugepages-2Mi', 'ephemeral-storage']) assert.equal(isExtendedResourceName(name), false, name);
  });
});

describe('registration requests', () => {
  const ok = { version: 'v1beta1', endpoint: 'fpga.sock', resource_name: 'example.com/fpga' };
  test('a v1beta1 request with a valid name and socket file name is accepted', () => {
    assert.equal(registrationError(ok), undefined);
  });
  test('another API version is refused', () => {
    assert.match(registrationError({ ...ok, version: 'v1alpha' }) ?? '', /"v1alpha" is not supported/);
  });
  test('an invalid resource name is refused', () => {
    assert.match(registrationError({ ...ok, resource_name: 'kubernetes.io/fpga' }) ?? '', /invalid extended resource name/);
  });
  test('an endpoint outside the plugin directory, or the agent\'s own socket, is refused', () => {
    for (const endpoint of ['../x.sock', '/tmp/x.sock', 'kubelet.sock', '']) {
      assert.match(registrationError({ ...ok, endpoint }) ?? '', /must be a socket file name/, endpoint);
    }
  });
});
