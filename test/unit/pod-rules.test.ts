// The pod rules every room shares (src/pod/): quantities, grace period, final phases, active
// containers, the QoS class, downward API resource values and how a pod is named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpus, totalmem } from 'node:os';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { milliCpu, parseQuantity, QuantityError, quantityOrNaN } from '../../src/pod/quantity.ts';
import { podGracePeriodSeconds } from '../../src/pod/grace-period.ts';
import { isTerminalPhase } from '../../src/pod/phase.ts';
import { isActiveContainer } from '../../src/pod/active-container.ts';
import { podQosClass } from '../../src/pod/qos-class.ts';
import { resourceValue } from '../../src/pod/resource-value.ts';
import { metadataFieldValue } from '../../src/pod/metadata-field.ts';
import { podDescription, podFullName, podLogFields, podRefOf } from '../../src/pod/pod-ref.ts';

const quantities: Array<[string | number | undefined, number]> = [
  ['2', 2], ['500m', 0.5], ['1.5', 1.5], ['.5', 0.5], ['1.', 1], ['+3', 3], ['-1', -1],
  ['10M', 10_000_000], ['1.5k', 1500], ['1G', 1e9], ['1Mi', 1_048_576], ['128Mi', 134_217_728], ['1Gi', 2 ** 30],
  ['2e3', 2000], ['1E2', 100], ['5e-1', 0.5], ['100n', 1e-7], ['1u', 1e-6], [' 64Mi ', 64 * 2 ** 20],
  [undefined, 0], [7, 7],
  // apimachinery's parser reads a number part without digits as 0, suffix or not.
  ['Mi', 0], ['+', 0],
];
for (const [text, want] of quantities) {
  test(`quantity ${JSON.stringify(text)} is ${want}`, () => assert.ok(Math.abs(parseQuantity(text) - want) <= Math.abs(want) * 1e-12));
}

for (const bad of ['ten', '', '1.2.3', '1Kb', '1e3k', '1 Gi', '0x10']) {
  test(`quantity ${JSON.stringify(bad)} is malformed: an error naming it, or NaN where malformed means unset`, () => {
    assert.throws(() => parseQuantity(bad), (err: unknown) => err instanceof QuantityError && err.message === `"${bad}" is not a quantity`);
    assert.ok(Number.isNaN(quantityOrNaN(bad)));
  });
}

test('milliCpu rounds up as MilliValue does', () => {
  assert.equal(milliCpu('500m'), 500);
  assert.equal(milliCpu('0.1'), 100);
  assert.equal(milliCpu('1'), 1000);
  assert.equal(milliCpu('1n'), 1);
});

test('grace period: the deletion\'s, else the spec\'s, else 30', () => {
  assert.equal(podGracePeriodSeconds({ metadata: { deletionGracePeriodSeconds: 0 }, spec: { containers: [], terminationGracePeriodSeconds: 10 } }), 0);
  assert.equal(podGracePeriodSeconds({ spec: { containers: [], terminationGracePeriodSeconds: 10 } }), 10);
  assert.equal(podGracePeriodSeconds({}), 30);
  assert.equal(podGracePeriodSeconds(undefined), 30);
});

test('final phases are Succeeded and Failed only', () => {
  assert.deepEqual(['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown', undefined].map(isTerminalPhase), [false, false, true, true, false, false]);
});

test('active containers: all but exited', () => {
  assert.deepEqual(['created', 'running', 'unknown', 'exited'].map((state) => isActiveContainer({ state })), [true, true, true, false]);
});

const app = (name: string, resources?: V1Container['resources']): V1Container => ({ name, image: 'busybox', ...(resources ? { resources } : {}) });
const qosRows: Array<{ name: string; containers: V1Container[]; init?: V1Container[]; want: string }> = [
  { name: 'nothing set → BestEffort', containers: [app('a')], want: 'BestEffort' },
  { name: 'zero requests only → BestEffort', containers: [app('a', { requests: { cpu: '0', memory: '0' } })], want: 'BestEffort' },
  { name: 'limits only → Guaranteed (requests default to them)', containers: [app('a', { limits: { cpu: '1', memory: '1Gi' } })], want: 'Guaranteed' },
  { name: 'equal in different spellings → Guaranteed', containers: [app('a', { requests: { cpu: '1000m', memory: '1073741824' }, limits: { cpu: '1', memory: '1Gi' } })], want: 'Guaranteed' },
  { name: 'memory limit missing → Burstable', containers: [app('a', { limits: { cpu: '1' } })], want: 'Burstable' },
  { name: 'an init container without limits → Burstable', containers: [app('a', { limits: { cpu: '1', memory: '1Gi' } })], init: [app('i')], want: 'Burstable' },
];
for (const row of qosRows) {
  test(`QoS: ${row.name}`, () => assert.equal(podQosClass({ spec: { containers: row.containers, ...(row.init ? { initContainers: row.init } : {}) } }), row.want));
}

test('resource values: divided and rounded up; an unset limit is the node\'s capacity, an unset request 0', () => {
  const pod: V1Pod = { spec: { containers: [app('a', { requests: { memory: '64Mi' }, limits: { cpu: '250m', memory: '128Mi' } })] } };
  assert.equal(resourceValue(pod, 'a', 'limits.cpu', '1'), '1');
  assert.equal(resourceValue(pod, 'a', 'limits.cpu', '1m'), '250');
  assert.equal(resourceValue(pod, 'a', 'limits.memory', '1Mi'), '128');
  assert.equal(resourceValue(pod, 'a', 'requests.memory', '1'), String(64 * 2 ** 20));
  assert.equal(resourceValue(pod, 'a', 'requests.cpu', '1'), '0');
  const bare: V1Pod = { spec: { containers: [app('b')] } };
  assert.equal(resourceValue(bare, 'b', 'limits.cpu', '1'), String(cpus().length));
  assert.equal(resourceValue(bare, 'b', 'limits.memory', '1'), String(totalmem()));
});

test('pod names: ns/name for logs and mirrors, name_ns(uid) in messages', () => {
  const pod: V1Pod = { metadata: { name: 'web', namespace: 'prod', uid: 'u1' } };
  const ref = podRefOf(pod);
  assert.deepEqual(ref, { uid: 'u1', name: 'web', namespace: 'prod' });
  assert.equal(podFullName(pod), 'prod/web');
  assert.equal(podFullName({ metadata: { name: 'x' } }), 'default/x');
  assert.deepEqual(podLogFields(ref), { pod: 'prod/web', uid: 'u1' });
  assert.equal(podDescription(ref), 'web_prod(u1)');
});

test('metadata fields a fieldRef names: the same text for env and downward API volumes', () => {
  const metadata = { name: 'web', namespace: 'prod', uid: 'u1', labels: { app: 'shop' }, annotations: { 'team/owner': 'ops' } };
  const rows: Array<[string, string | undefined]> = [
    ['metadata.name', 'web'],
    ['metadata.namespace', 'prod'],
    ['metadata.uid', 'u1'],
    ["metadata.labels['app']", 'shop'],
    ["metadata.annotations['team/owner']", 'ops'],
    ["metadata.labels['absent']", ''],
    ['metadata.labels', undefined],
    ['spec.nodeName', undefined],
  ];
  for (const [path, want] of rows) assert.equal(metadataFieldValue(metadata, path), want, path);
  assert.equal(metadataFieldValue({ name: 'x' }, 'metadata.namespace'), 'default');
});

test('PodLogOptions: unparsable numbers and times are marked (400), broken rules are not (422), with kube\'s texts', async () => {
  const { readPodLogOptions, describeLogOptionProblem } = await import('../../src/pod/pod-log-options.ts');
  const problems = (q: string) => readPodLogOptions(new URLSearchParams(q)).problems.map((p) => `${p.unparsable ? '400' : '422'} ${describeLogOptionProblem(p)}`);
  assert.deepEqual(problems('tailLines=-1&limitBytes=0'), ['422 tailLines: Invalid value: -1: must be greater than or equal to 0', '422 limitBytes: Invalid value: 0: must be greater than 0']);
  assert.deepEqual(problems('tailLines=abc'), ['400 tailLines: Invalid value: "abc": must be an integer']);
  assert.deepEqual(problems('sinceSeconds=5&sinceTime=2026-01-01T00:00:00Z'), ['422 Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified']);
  assert.deepEqual(problems('sinceSeconds=0'), ['422 sinceSeconds: Invalid value: 0: must be greater than 0']);
  assert.deepEqual(readPodLogOptions(new URLSearchParams('tail=all&limitBytes=10')), { problems: [], limitBytes: 10 });
});
