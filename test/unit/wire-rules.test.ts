// The wire audit's rules (test/helpers/wire-rules.ts) and the quantity canonicalizer they use:
// they reject what kube-apiserver refuses or rewrites (the three-digit Lease renewTime that a real
// cluster refused, a Time with milliseconds, a non-canonical Node quantity, an unknown field, a
// patch type it does not take) and accept the forms it writes itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalQuantity, canonicalQuantityAs, formatQuantity } from '../../src/pod/quantity-canonical.ts';
import { QuantityError } from '../../src/pod/quantity.ts';
import { checkRequest, type WireRule } from '../helpers/wire-rules.ts';
import { buildLease } from '../../src/agent/node/node-lease.ts';
import { buildNodeStatus } from '../../src/agent/node/node-object.ts';
import { apiTime, withApiTimes } from '../../src/agent/api/api-time.ts';

const leasePath = '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases';
const lease = (renewTime: string) => ({
  apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'n1', namespace: 'kube-node-lease' },
  spec: { holderIdentity: 'n1', leaseDurationSeconds: 40, renewTime },
});
const post = (path: string, body: unknown, contentType = 'application/json') => checkRequest({ method: 'POST', path, contentType, body: JSON.stringify(body) });
const patch = (path: string, body: unknown, contentType = 'application/strategic-merge-patch+json') => checkRequest({ method: 'PATCH', path, contentType, body: JSON.stringify(body) });
const rules = (v: { problems: Array<{ rule: WireRule; field: string }> }) => v.problems.map((p) => `${p.rule} ${p.field}`);

test('quantities canonicalize as apimachinery writes them, keeping their format', () => {
  const cases: Array<[string, string]> = [
    ['1000m', '1'], ['0.5', '500m'], ['1024Ki', '1Mi'], ['1e3', '1e3'], ['1E3', '1e3'], ['1.5Gi', '1536Mi'], ['1.5', '1500m'],
    ['1000', '1k'], ['1073741824', '1073741824'], ['4194304Ki', '4Gi'], ['16318412Ki', '16318412Ki'], ['0.5Ki', '512'], ['512Ki', '512Ki'],
    ['1.1e5', '110e3'], ['0.1n', '1n'], ['0.0001', '100u'], ['-1000m', '-1'], ['0', '0'], ['0Mi', '0'], ['1.', '1'], ['.5', '500m'],
    ['+1', '1'], ['100m', '100m'], ['1E', '1E'], ['8Ei', '9223372036854775807'],
  ];
  for (const [input, canonical] of cases) assert.equal(canonicalQuantity(input), canonical, input);
  for (const bad of ['', '1Z', 'Ki', '1 Gi', '1e', '--1', '1.2.3']) assert.throws(() => canonicalQuantity(bad), QuantityError, bad);
  // The same value in another format: what resource.NewQuantity(v, format) prints.
  assert.equal(canonicalQuantityAs('1073741824', 'BinarySI'), '1Gi');
  assert.equal(formatQuantity(4 * 2 ** 30, 'BinarySI'), '4Gi');
  assert.equal(formatQuantity(1000, 'BinarySI'), '1k', 'BinarySI under 1024 is written DecimalSI');
  assert.equal(formatQuantity(1000 * 1024, 'BinarySI'), '1000Ki');
  assert.equal(formatQuantity(1000, 'DecimalSI'), '1k');
  assert.equal(formatQuantity(110, 'DecimalSI'), '110');
});

test('a Lease whose renewTime has three fraction digits is refused, six pass', () => {
  const old = post(leasePath, lease('2026-12-03T16:47:26.394Z'));
  assert.deepEqual(rules(old), ['decode ', 'micro-time spec.renewTime']);
  assert.match(old.problems[0]!.message, /parsing time "2026-12-03T16:47:26.394Z" as "2006-01-02T15:04:05.000000Z07:00"/);
  assert.equal(old.kind, 'coordination.k8s.io/v1 Lease');
  assert.deepEqual(post(leasePath, lease('2026-12-03T16:47:26.394000Z')).problems, []);
  // What the agent builds passes.
  const node = { metadata: { name: 'n1', uid: 'u1' } };
  assert.deepEqual(post(leasePath, buildLease(node, 40, new Date('2026-12-03T16:47:26.394Z'))).problems, []);
});

test('Times are whole seconds: milliseconds, even ".000", are flagged', () => {
  const event = (t: string) => ({
    apiVersion: 'v1', kind: 'Event', metadata: { name: 'e', namespace: 'default' }, involvedObject: { kind: 'Pod', name: 'p' },
    reason: 'Started', firstTimestamp: t, lastTimestamp: t, count: 1,
  });
  const path = '/api/v1/namespaces/default/events';
  assert.deepEqual(rules(post(path, event('2026-12-03T16:47:26.394Z'))), ['time firstTimestamp', 'time lastTimestamp']);
  assert.deepEqual(rules(post(path, event('2026-12-03T16:47:26.000Z'))), ['time firstTimestamp', 'time lastTimestamp']);
  assert.deepEqual(rules(post(path, event('2026-12-03T17:47:26+01:00'))), ['time firstTimestamp', 'time lastTimestamp']);
  assert.deepEqual(post(path, event('2026-12-03T16:47:26Z')).problems, []);
  // A merge patch of an event's repeat is read against the kind too.
  assert.deepEqual(rules(patch(`${path}/e`, { count: 2, lastTimestamp: '2026-12-03T16:47:27.001Z' }, 'application/merge-patch+json')), ['time lastTimestamp']);
  // An eventTime is a MicroTime.
  assert.deepEqual(rules(post(path, { ...event('2026-12-03T16:47:26Z'), eventTime: '2026-12-03T16:47:26Z' })), ['decode ', 'micro-time eventTime']);
});

test('the agent writes Times in whole seconds', () => {
  assert.equal(apiTime(new Date('2026-12-03T16:47:26.999Z')) as unknown as string, '2026-12-03T16:47:26Z');
  const status = { startTime: new Date('2026-12-03T16:47:26.394Z'), conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: new Date('2026-12-03T16:47:26.5Z') }], gone: undefined };
  assert.deepEqual(withApiTimes(status), { startTime: '2026-12-03T16:47:26Z', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-12-03T16:47:26Z' }] });
  // MicroTime strings are left as they are.
  assert.deepEqual(withApiTimes({ renewTime: '2026-12-03T16:47:26.394000Z' }), { renewTime: '2026-12-03T16:47:26.394000Z' });
});

test('a Node status with a non-canonical quantity is flagged; the agent\'s own passes', () => {
  const path = '/api/v1/nodes/n1/status';
  const withCapacity = (capacity: Record<string, string>) => patch(path, { status: { capacity } });
  assert.deepEqual(rules(withCapacity({ cpu: '1000m' })), ['quantity status.capacity.cpu']);
  assert.deepEqual(rules(withCapacity({ memory: '4194304Ki' })), ['quantity status.capacity.memory']);
  assert.match(withCapacity({ memory: '4194304Ki' }).problems[0]!.message, /as "4Gi"/);
  // Canonical as DecimalSI, but a kubelet writes a node's bytes BinarySI.
  assert.deepEqual(rules(withCapacity({ memory: '1073741824' })), ['quantity status.capacity.memory']);
  assert.deepEqual(rules(withCapacity({ 'hugepages-2Mi': '2097152' })), ['quantity status.capacity.hugepages-2Mi']);
  assert.deepEqual(rules(withCapacity({ pods: 'lots' })), ['quantity status.capacity.pods']);
  assert.deepEqual(withCapacity({ cpu: '2', memory: '1Gi', pods: '110', 'ephemeral-storage': '16318412Ki', 'example.com/gpu': '2' }).problems, []);

  const facts = {
    cpuCount: 8, memoryBytes: 16 * 2 ** 30, rootFsBytes: 100 * 2 ** 30, machineID: 'm', bootID: 'b', systemUUID: 's',
    osImage: 'Debian', kernelVersion: '6.1.0', architecture: 'amd64', operatingSystem: 'linux',
  };
  const built = buildNodeStatus({ nodeName: 'n1', facts, maxPods: 110, kubeletPort: 10250, extendedResources: {}, now: new Date('2026-12-03T16:47:26.394Z') });
  assert.deepEqual(patch(path, { status: withApiTimes(built) }).problems, []);
  // Without the wire form its condition times carry milliseconds.
  assert.ok(rules(patch(path, JSON.parse(JSON.stringify({ status: built })))).includes('time status.conditions[0].lastHeartbeatTime'));
});

test('quantities are checked wherever the models have them', () => {
  const pod = {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' },
    spec: {
      containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu: '0.5', memory: '64Mi' }, limits: { memory: '128Mi' } } }],
      volumes: [{ name: 'v', emptyDir: { sizeLimit: '1024Mi' } }],
    },
  };
  assert.deepEqual(rules(post('/api/v1/namespaces/default/pods', pod)), ['quantity spec.containers[0].resources.requests.cpu', 'quantity spec.volumes[0].emptyDir.sizeLimit']);
});

test('unknown fields, wrong JSON types and a kind that is not the URL\'s are flagged', () => {
  const path = '/api/v1/namespaces/default/pods';
  const pod = (spec: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec, ...extra });
  const containers = [{ name: 'c', image: 'busybox' }];
  assert.deepEqual(rules(post(path, pod({ containers: [{ name: 'c', image: 'busybox', imagePullPolicyy: 'Always' }] }))), ['unknown-field spec.containers[0].imagePullPolicyy']);
  assert.deepEqual(rules(post(path, pod({ containers }, { status: { phaseReason: 'x' } }))), ['unknown-field status.phaseReason']);
  assert.deepEqual(rules(post(path, pod({ containers, terminationGracePeriodSeconds: '30' }))), ['decode spec.terminationGracePeriodSeconds']);
  assert.deepEqual(rules(post(path, pod({ containers: { name: 'c' } }))), ['decode spec.containers']);
  assert.deepEqual(rules(post(path, { ...pod({ containers }), kind: 'ConfigMap' })), ['kind kind']);
  assert.deepEqual(rules(post(leasePath, { ...lease('2026-12-03T16:47:26.394000Z'), apiVersion: 'v1' })), ['kind apiVersion']);
  assert.deepEqual(post(path, pod({ containers })).problems, []);
  // A TokenRequest is read as authentication.k8s.io/v1's, not the pod's or the service account's.
  const token = post('/api/v1/namespaces/default/serviceaccounts/default/token', {
    apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: [], expirationSeconds: 3607, boundObjectRef: { kind: 'Pod', name: 'p', uid: 'u', namespace: 'x' } },
  });
  assert.equal(token.kind, 'authentication.k8s.io/v1 TokenRequest');
  assert.deepEqual(rules(token), ['unknown-field spec.boundObjectRef.namespace']);
  // A DELETE's body is DeleteOptions.
  const del = checkRequest({ method: 'DELETE', path: `${path}/p`, contentType: 'application/json', body: JSON.stringify({ kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0, preconditions: { uid: 'u' } }) });
  assert.deepEqual([del.kind, del.problems], ['v1 DeleteOptions', []]);
});

test('a PATCH must name a patch type kube-apiserver takes', () => {
  const path = '/api/v1/namespaces/default/pods/p/status';
  assert.deepEqual(rules(patch(path, { status: { phase: 'Running' } }, 'application/json')), ['content-type ']);
  assert.deepEqual(rules(patch(path, { status: { phase: 'Running' } }, 'text/plain')), ['content-type ']);
  for (const type of ['application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/merge-patch+json; charset=utf-8']) {
    assert.deepEqual(patch(path, { status: { phase: 'Running' } }, type).problems, [], type);
  }
  // Strategic merge directives are patch syntax, not fields.
  assert.deepEqual(patch(path, { status: { conditions: [{ type: 'Ready', $patch: 'delete' }], '$setElementOrder/conditions': [{ type: 'Ready' }] } }).problems, []);
  // A JSON patch's paths are resolved against the kind, its values checked where they land.
  const ops = (o: unknown[]) => checkRequest({ method: 'PATCH', path, contentType: 'application/json-patch+json', body: JSON.stringify(o) });
  assert.deepEqual(ops([{ op: 'replace', path: '/status/phase', value: 'Running' }, { op: 'add', path: '/metadata/labels/a~1b', value: 'c' }]).problems, []);
  assert.deepEqual(rules(ops([{ op: 'replace', path: '/status/phaze', value: 'Running' }])), ['unknown-field [0]']);
  assert.deepEqual(rules(ops([{ op: 'add', path: '/status/startTime', value: '2026-12-03T16:47:26.394Z' }])), ['time [0].value (/status/startTime)']);
  assert.deepEqual(rules(ops([{ op: 'add', path: '/spec/containers/0/resources/limits/cpu', value: '2000m' }])), ['quantity [0].value (/spec/containers/0/resources/limits/cpu)']);
  assert.deepEqual(rules(ops([{ op: 'frobnicate', path: '/status' }])), ['decode [0]']);
  // Apply patches are YAML and name their kind.
  const apply = (yaml: string) => checkRequest({ method: 'PATCH', path: '/api/v1/namespaces/default/configmaps/c', contentType: 'application/apply-patch+yaml', body: yaml });
  assert.deepEqual(apply('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}\n').problems, []);
  assert.deepEqual(rules(apply('metadata: {name: c}\ndata: {a: b}\n')), ['kind ']);
});
