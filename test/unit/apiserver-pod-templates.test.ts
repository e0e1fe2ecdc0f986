// PodTemplates get the defaults of a pod spec (not those only a Pod gets) and are validated as a
// pod's spec, under template.spec; a pod's sysctls must be well-formed, each named once, and
// not namespaced ones the host's namespaces would take.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '../../src/apiserver/errors.ts';
import { resourceTypes } from '../../src/apiserver/registry.ts';
import { ResourceService } from '../../src/apiserver/resources.ts';
import { ObjectStore } from '../../src/apiserver/store.ts';
import { isValidSysctlName } from '../../src/apiserver/pod-sysctls.ts';
import { toTable } from '../../src/apiserver/tables.ts';

const podTemplateType = resourceTypes.find((t) => t.plural === 'podtemplates')!;
const podType = resourceTypes.find((t) => t.plural === 'pods' && !t.group)!;
const namespaceType = resourceTypes.find((t) => t.plural === 'namespaces')!;

function setup(): ResourceService {
  const r = new ResourceService(new ObjectStore());
  r.create(namespaceType, '', { metadata: { name: 'default' } });
  return r;
}

function refusal(write: () => unknown): string {
  try {
    write();
  } catch (err) {
    if (err instanceof ApiError && err.code === 422) return err.message;
    throw err;
  }
  assert.fail('the write was accepted');
}

const sysctlRegex = '^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$';

test('a PodTemplate\'s pod spec gets the pod spec defaults, not the Pod-only or admission ones', () => {
  const r = setup();
  const pt = r.create(podTemplateType, 'default', {
    metadata: { name: 'pt' },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'nginx:1.27', resources: { limits: { cpu: '1' } }, ports: [{ containerPort: 80 }] }] } },
  });
  const spec = pt.template.spec;
  assert.equal(spec.restartPolicy, 'Always');
  assert.equal(spec.dnsPolicy, 'ClusterFirst');
  assert.equal(spec.terminationGracePeriodSeconds, 30);
  assert.equal(spec.schedulerName, 'default-scheduler');
  assert.deepEqual(spec.securityContext, {});
  assert.equal(spec.containers[0].imagePullPolicy, 'IfNotPresent');
  assert.equal(spec.containers[0].terminationMessagePath, '/dev/termination-log');
  assert.equal(spec.containers[0].terminationMessagePolicy, 'File');
  assert.equal(spec.containers[0].ports[0].protocol, 'TCP');
  assert.equal(spec.containers[0].resources.requests, undefined, 'limits become requests only in a Pod');
  for (const podOnly of ['enableServiceLinks', 'tolerations', 'priority', 'serviceAccountName']) assert.equal(spec[podOnly], undefined, podOnly);
  assert.deepEqual(pt.template.metadata, { creationTimestamp: null, labels: { app: 'web' } });
  // An update gets the same defaults.
  const updated = r.update(podTemplateType, 'default', 'pt', { metadata: { name: 'pt' }, template: { spec: { containers: [{ name: 'app', image: 'nginx' }] } } });
  assert.equal(updated.template.spec.containers[0].imagePullPolicy, 'Always');
  assert.equal(updated.template.spec.restartPolicy, 'Always');
});

test('a PodTemplate\'s template.spec is validated as a pod spec', () => {
  const r = setup();
  assert.equal(refusal(() => r.create(podTemplateType, 'default', { metadata: { name: 'empty' } })),
    'PodTemplate "empty" is invalid: template.spec.containers: Required value');
  assert.equal(refusal(() => r.create(podTemplateType, 'default', { metadata: { name: 'bad' }, template: { spec: { restartPolicy: 'Sometimes', containers: [{ name: 'a' }, { name: 'a', image: 'x' }] } } })),
    'PodTemplate "bad" is invalid: [template.spec.containers[0].image: Required value, template.spec.containers[1].name: Duplicate value: "a", template.spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"]');
  const ok = r.create(podTemplateType, 'default', { metadata: { name: 'ok' }, template: { spec: { containers: [{ name: 'a', image: 'x' }] } } });
  assert.equal(refusal(() => r.update(podTemplateType, 'default', 'ok', { ...ok, template: { spec: { containers: [] } } })),
    'PodTemplate "ok" is invalid: template.spec.containers: Required value');
  assert.equal(refusal(() => r.create(podTemplateType, 'default', { metadata: { name: 'sys' }, template: { spec: { securityContext: { sysctls: [{ name: 'Bad' }] }, containers: [{ name: 'a', image: 'x' }] } } })),
    `PodTemplate "sys" is invalid: template.spec.securityContext.sysctls[0].name: Invalid value: "Bad": must have at most 253 characters and match regex ${sysctlRegex}`);
});

test('kubectl get podtemplates: NAME CONTAINERS IMAGES POD LABELS', () => {
  const table = toTable(podTemplateType, [{ metadata: { name: 'pt' }, template: { metadata: { labels: { b: '2', a: '1' } }, spec: { containers: [{ name: 'a', image: 'x:1' }, { name: 'b', image: 'y:2' }] } } }],
    {}, { includeObject: 'None', noHeaders: false });
  assert.deepEqual(table.columnDefinitions.map((c) => c.name), ['Name', 'Containers', 'Images', 'Pod Labels']);
  assert.deepEqual(table.rows[0]!.cells, ['pt', 'a,b', 'x:1,y:2', 'a=1,b=2']);
});

test('sysctl names: dot or slash separated lower-case segments, at most 253 characters', () => {
  for (const ok of ['kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net/ipv4/ip_forward', 'net.ipv4.conf.eth0/1.forwarding', 'a'.repeat(253)]) {
    assert.ok(isValidSysctlName(ok), ok);
  }
  for (const bad of ['', 'Kernel.shm', 'kernel..shm', '.kernel', 'kernel.', 'net.ipv4-', 'a'.repeat(254), 'kernel.shm*']) assert.ok(!isValidSysctlName(bad), bad);
});

test('a pod\'s sysctls: a bad name, a name twice, a network one with hostNetwork, are refused', () => {
  const r = setup();
  const pod = (name: string, spec: Record<string, unknown>) => ({ metadata: { name }, spec: { containers: [{ name: 'a', image: 'busybox:1.36' }], ...spec } });
  const sysctls = (...names: string[]) => ({ securityContext: { sysctls: names.map((n) => ({ name: n, value: '1' })) } });
  assert.equal(refusal(() => r.create(podType, 'default', pod('bad', sysctls('kernel.msgmax', 'Net.Core')))),
    `Pod "bad" is invalid: spec.securityContext.sysctls[1].name: Invalid value: "Net.Core": must have at most 253 characters and match regex ${sysctlRegex}`);
  assert.equal(refusal(() => r.create(podType, 'default', pod('dup', sysctls('kernel.msgmax', 'kernel.msgmax')))),
    'Pod "dup" is invalid: spec.securityContext.sysctls[1].name: Duplicate value: "kernel.msgmax"');
  assert.equal(refusal(() => r.create(podType, 'default', pod('empty', sysctls('')))), 'Pod "empty" is invalid: spec.securityContext.sysctls[0].name: Required value');
  assert.equal(refusal(() => r.create(podType, 'default', pod('hostnet', { hostNetwork: true, ...sysctls('net/ipv4/ip_forward') }))),
    'Pod "hostnet" is invalid: spec.securityContext.sysctls[0].name: Invalid value: "net/ipv4/ip_forward": may not be specified when \'hostNetwork\' is true');
  assert.equal(refusal(() => r.create(podType, 'default', pod('hostipc', { hostIPC: true, ...sysctls('kernel.shm_rmid_forced') }))),
    'Pod "hostipc" is invalid: spec.securityContext.sysctls[0].name: Invalid value: "kernel.shm_rmid_forced": may not be specified when \'hostIPC\' is true');
  // An IPC sysctl with the host's network, a network one with the pod's own: fine.
  assert.ok(r.create(podType, 'default', pod('ok', { hostNetwork: true, ...sysctls('kernel.shm_rmid_forced') })));
  assert.ok(r.create(podType, 'default', pod('ok2', sysctls('net.ipv4.ip_forward', 'kernel.shm_rmid_forced'))));
});
