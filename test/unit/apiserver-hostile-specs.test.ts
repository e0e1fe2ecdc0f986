// Odd pod specs a client may send, refused by the dev control plane where kube-apiserver refuses
// them: a resource quantity that does not parse fails decoding (400, before validation, the
// apimachinery parser's own words), and container ports out of range or without a containerPort
// fail validation (422).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '../../src/apiserver/errors.ts';
import { resourceTypes } from '../../src/apiserver/registry.ts';
import { ResourceService } from '../../src/apiserver/resources.ts';
import { ObjectStore } from '../../src/apiserver/store.ts';
import { quantityFormatProblem } from '../../src/apiserver/wire-quantities.ts';
import { parseQuantity, quantityParseError } from '../../src/pod/quantity.ts';

const podType = resourceTypes.find((t) => t.plural === 'pods' && !t.group)!;
const namespaceType = resourceTypes.find((t) => t.plural === 'namespaces')!;

function setup(): ResourceService {
  const r = new ResourceService(new ObjectStore());
  r.create(namespaceType, '', { metadata: { name: 'default' } });
  return r;
}

function refusal(write: () => unknown): { code: number; message: string } {
  try {
    write();
  } catch (err) {
    if (err instanceof ApiError) return { code: err.code, message: err.message };
    throw err;
  }
  assert.fail('the write was accepted');
}

const FORMAT_WRONG = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
const SUFFIX = "unable to parse quantity's suffix";

const podWith = (name: string, container: Record<string, unknown>, spec: Record<string, unknown> = {}) =>
  ({ metadata: { name }, spec: { containers: [{ name: 'app', image: 'busybox:1.36', ...container }], ...spec } });

test('the quantity parser\'s errors, as apimachinery\'s ParseQuantity words them', () => {
  for (const bad of ['', 'abc', 'NaN', 'Infinity', '１００m', '1 Gi', '1.2.3', '0x10', '1Ki5x', '1e5.0']) {
    assert.equal(quantityParseError(bad), FORMAT_WRONG, JSON.stringify(bad));
  }
  for (const bad of ['1i', '1iK', '1Ki5', '1Mm', '1ee5', '1e+', '1e', '--1']) assert.equal(quantityParseError(bad), SUFFIX, JSON.stringify(bad));
  for (const good of ['0', '1', '100m', '1.5', '1.', '.5', '128Mi', '1e3', '2E-3', '+1', '-1', '1e+5', '007']) {
    assert.equal(quantityParseError(good), undefined, JSON.stringify(good));
  }
  // What the API's parser takes, the agent's reads too: a number part without digits is zero.
  for (const zero of ['+', '.', '-Ki', '+.e5']) {
    assert.equal(quantityParseError(zero), undefined, JSON.stringify(zero));
    assert.equal(parseQuantity(zero), 0, JSON.stringify(zero));
  }
});

test('an unparseable quantity in requests or limits fails decoding with a 400, as kube-apiserver\'s decoder does', () => {
  const r = setup();
  const cases: Array<[string, unknown]> = [['abc', 'abc'], ['nan', 'NaN'], ['fullwidth', '１００m'], ['list', [1]], ['object', { value: 1 }], ['bool', true]];
  for (const [name, cpu] of cases) {
    for (const where of ['requests', 'limits']) {
      const bad = refusal(() => r.create(podType, 'default', podWith(`${name}-${where}`, { resources: { [where]: { cpu } } })));
      assert.equal(bad.code, 400, `${name} in ${where}`);
      assert.equal(bad.message, `Pod in version "v1" cannot be handled as a Pod: ${FORMAT_WRONG}`, `${name} in ${where}`);
    }
  }
  // In an init container, an emptyDir sizeLimit and the pod overhead alike.
  assert.equal(refusal(() => r.create(podType, 'default', podWith('init', {}, { initContainers: [{ name: 'i', image: 'busybox:1.36', resources: { limits: { memory: '1Qi' } } }] }))).code, 400);
  assert.equal(refusal(() => r.create(podType, 'default', podWith('sized', {}, { volumes: [{ name: 'v', emptyDir: { sizeLimit: 'big' } }] }))).code, 400);
  assert.equal(refusal(() => r.create(podType, 'default', podWith('suffix', { resources: { requests: { memory: '1iK' } } }))).message,
    `Pod in version "v1" cannot be handled as a Pod: ${SUFFIX}`);
});

test('quantities kube-apiserver decodes are let through: numbers, signs, a bare fraction, null', () => {
  const r = setup();
  r.create(podType, 'default', podWith('fine', { resources: { requests: { cpu: 0.5, memory: '64Mi' }, limits: { cpu: '1.', memory: null } } }));
  assert.equal(quantityFormatProblem('Pod', 'v1', { spec: { containers: [{ resources: { requests: { cpu: ' 1 ' } } }] } }), undefined);
  assert.equal(quantityFormatProblem('Pod', 'v1', { spec: { containers: [{ resources: { requests: { cpu: '1x' } } }] } }), FORMAT_WRONG);
  // A Quantity in a kind other than Pod is found from the models too.
  assert.equal(quantityFormatProblem('PersistentVolumeClaim', 'v1', { spec: { resources: { requests: { storage: 'lots' } } } }), FORMAT_WRONG);
});

test('a hostPort or containerPort out of range is invalid (422), with kube-apiserver\'s words', () => {
  const r = setup();
  const range = 'must be between 1 and 65535, inclusive';
  assert.deepEqual(refusal(() => r.create(podType, 'default', podWith('p70000', { ports: [{ containerPort: 80, hostPort: 70000 }] }))),
    { code: 422, message: `Pod "p70000" is invalid: spec.containers[0].ports[0].hostPort: Invalid value: 70000: ${range}` });
  assert.deepEqual(refusal(() => r.create(podType, 'default', podWith('neg', { ports: [{ containerPort: 80, hostPort: -1 }, { containerPort: 65536 }] }))),
    { code: 422, message: `Pod "neg" is invalid: [spec.containers[0].ports[0].hostPort: Invalid value: -1: ${range}, spec.containers[0].ports[1].containerPort: Invalid value: 65536: ${range}]` });
  assert.equal(refusal(() => r.create(podType, 'default', podWith('init-port', {}, { initContainers: [{ name: 'i', image: 'busybox:1.36', ports: [{ containerPort: 0x10000 }] }] }))).message,
    `Pod "init-port" is invalid: spec.initContainers[0].ports[0].containerPort: Invalid value: 65536: ${range}`);
});

test('a port without a containerPort is Required; a protocol outside TCP, UDP, SCTP is Unsupported', () => {
  const r = setup();
  assert.deepEqual(refusal(() => r.create(podType, 'default', podWith('nocp', { ports: [{ hostPort: 8080 }] }))),
    { code: 422, message: 'Pod "nocp" is invalid: spec.containers[0].ports[0].containerPort: Required value' });
  assert.equal(refusal(() => r.create(podType, 'default', podWith('icmp', { ports: [{ containerPort: 80, protocol: 'ICMP' }] }))).message,
    'Pod "icmp" is invalid: spec.containers[0].ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"');
  // In range and complete: accepted, hostPort 0 meaning none.
  r.create(podType, 'default', podWith('ok', { ports: [{ containerPort: 80, hostPort: 0 }, { containerPort: 65535, hostPort: 1, protocol: 'UDP' }] }));
});
