// Pod specs kube-apiserver refuses with 422 Invalid, one row per rule of ValidatePodSpec (and
// ObjectMeta's labels) the fuzzer found this control plane let through: the spec, the field path
// and kube-apiserver's message. Valid neighbours of each row are still accepted, and a negative
// terminationGracePeriodSeconds is taken as 1, as kube-apiserver converts it since 1.27.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '../../src/apiserver/errors.ts';
import { resourceTypes } from '../../src/apiserver/registry.ts';
import { ResourceService } from '../../src/apiserver/resources.ts';
import { ObjectStore } from '../../src/apiserver/store.ts';

const podType = resourceTypes.find((t) => t.plural === 'pods' && !t.group)!;
const podTemplateType = resourceTypes.find((t) => t.plural === 'podtemplates' && !t.group)!;
const namespaceType = resourceTypes.find((t) => t.plural === 'namespaces')!;

function setup(): ResourceService {
  const r = new ResourceService(new ObjectStore());
  r.create(namespaceType, '', { metadata: { name: 'default' } });
  return r;
}

type Json = Record<string, any>;
const app = (extra: Json = {}): Json => ({ name: 'app', image: 'busybox:1.36', ...extra });
const pod = (spec: Json, metadata: Json = {}): Json => ({ metadata: { name: 'p', ...metadata }, spec: { containers: [app()], ...spec } });

const DNS_LABEL = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

interface Row { rule: string; pod: Json; field: string; reason: string; message: string }

const rows: Row[] = [
  {
    rule: 'a volumeMount of an unknown volume', pod: pod({ containers: [app({ volumeMounts: [{ name: 'nope', mountPath: '/x' }] })] }),
    field: 'spec.containers[0].volumeMounts[0].name', reason: 'FieldValueNotFound', message: 'Not found: "nope"',
  },
  {
    rule: 'an env var without a name', pod: pod({ containers: [app({ env: [{ name: '', value: 'x' }] })] }),
    field: 'spec.containers[0].env[0].name', reason: 'FieldValueRequired', message: 'Required value',
  },
  {
    rule: 'one hostPort, protocol and hostIP twice in the pod',
    pod: pod({ containers: [app({ ports: [{ containerPort: 80, hostPort: 8085 }] }), { name: 'b', image: 'busybox:1.36', ports: [{ containerPort: 81, hostPort: 8085 }] }] }),
    field: 'spec.containers[1].ports[0].hostPort', reason: 'FieldValueDuplicate', message: 'Duplicate value: "/TCP/8085"',
  },
  {
    rule: 'hostNetwork with a hostPort other than the containerPort', pod: pod({ hostNetwork: true, containers: [app({ ports: [{ containerPort: 80, hostPort: 8080 }] })] }),
    field: 'spec.containers[0].ports[0].hostPort', reason: 'FieldValueInvalid', message: 'Invalid value: 8080: must match `containerPort` when `hostNetwork` is true',
  },
  {
    rule: 'two volumes of one name', pod: pod({ volumes: [{ name: 'dup', emptyDir: {} }, { name: 'dup', emptyDir: {} }] }),
    field: 'spec.volumes[1].name', reason: 'FieldValueDuplicate', message: 'Duplicate value: "dup"',
  },
  {
    rule: 'a negative activeDeadlineSeconds', pod: pod({ activeDeadlineSeconds: -1 }),
    field: 'spec.activeDeadlineSeconds', reason: 'FieldValueInvalid', message: 'Invalid value: -1: must be between 1 and 2147483647, inclusive',
  },
  {
    rule: 'a request above its limit', pod: pod({ containers: [app({ resources: { requests: { memory: '1Gi' }, limits: { memory: '102400Ki' } } })] }),
    field: 'spec.containers[0].resources.requests', reason: 'FieldValueInvalid', message: 'Invalid value: "1Gi": must be less than or equal to memory limit of 100Mi',
  },
  {
    rule: 'an init container with restartPolicy Never', pod: pod({ initContainers: [{ name: 'init', image: 'busybox:1.36', restartPolicy: 'Never' }] }),
    field: 'spec.initContainers[0].restartPolicy', reason: 'FieldValueNotSupported', message: 'Unsupported value: "Never": supported values: "Always"',
  },
  {
    rule: 'a liveness probe with successThreshold 2', pod: pod({ containers: [app({ livenessProbe: { exec: { command: ['true'] }, successThreshold: 2 } })] }),
    field: 'spec.containers[0].livenessProbe.successThreshold', reason: 'FieldValueInvalid', message: 'Invalid value: 2: must be 1',
  },
  {
    rule: 'dnsPolicy None without a dnsConfig', pod: pod({ dnsPolicy: 'None' }),
    field: 'spec.dnsConfig', reason: 'FieldValueRequired', message: 'Required value: must provide `dnsConfig` when `dnsPolicy` is None',
  },
  {
    rule: 'a container name that is no DNS label', pod: pod({ containers: [app({ name: 'Bad_Name' })] }),
    field: 'spec.containers[0].name', reason: 'FieldValueInvalid', message: `Invalid value: "Bad_Name": ${DNS_LABEL}`,
  },
  {
    rule: 'a label value of 64 characters', pod: pod({}, { labels: { long: 'a'.repeat(64) } }),
    field: 'metadata.labels', reason: 'FieldValueInvalid', message: `Invalid value: "${'a'.repeat(64)}": must be no more than 63 characters`,
  },
  {
    rule: 'a hostname that is no DNS label', pod: pod({ hostname: 'Not_A_Label' }),
    field: 'spec.hostname', reason: 'FieldValueInvalid', message: `Invalid value: "Not_A_Label": ${DNS_LABEL}`,
  },
  {
    rule: 'a startup probe with successThreshold 3', pod: pod({ containers: [app({ startupProbe: { exec: { command: ['true'] }, successThreshold: 3 } })] }),
    field: 'spec.containers[0].startupProbe.successThreshold', reason: 'FieldValueInvalid', message: 'Invalid value: 3: must be 1',
  },
  {
    rule: 'dnsPolicy None with no nameserver', pod: pod({ dnsPolicy: 'None', dnsConfig: { searches: ['a.example'] } }),
    field: 'spec.dnsConfig.nameservers', reason: 'FieldValueRequired', message: 'Required value: must provide at least one DNS nameserver when `dnsPolicy` is None',
  },
  {
    rule: 'a label key with two slashes', pod: pod({}, { labels: { 'a/b/c': 'v' } }),
    field: 'metadata.labels', reason: 'FieldValueInvalid',
    message: "Invalid value: \"a/b/c\": a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
  },
  {
    rule: 'a probe on an init container that is no sidecar', pod: pod({ initContainers: [{ name: 'init', image: 'busybox:1.36', readinessProbe: { exec: { command: ['true'] } } }] }),
    field: 'spec.initContainers[0].readinessProbe', reason: 'FieldValueForbidden', message: 'Forbidden: may not be set for init containers without restartPolicy=Always',
  },
  {
    rule: 'a restartPolicy on a regular container', pod: pod({ containers: [app({ restartPolicy: 'Always' })] }),
    field: 'spec.containers[0].restartPolicy', reason: 'FieldValueForbidden', message: 'Forbidden: may not be set for non-init containers',
  },
];

for (const row of rows) {
  test(`refused (422): ${row.rule}`, () => {
    const r = setup();
    let err: unknown;
    try {
      r.create(podType, 'default', structuredClone(row.pod));
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof ApiError, 'the pod was accepted');
    const status = err.toStatus();
    assert.equal(status.code, 422);
    assert.equal(status.reason, 'Invalid');
    assert.equal(status.message, `Pod "p" is invalid: ${row.field}: ${row.message}`);
    assert.equal(status.details?.name, 'p');
    assert.equal(status.details?.kind, 'Pod');
    assert.deepEqual(status.details?.causes, [{ reason: row.reason, message: row.message, field: row.field }]);
  });
}

test('the valid neighbours of those specs are accepted', () => {
  const r = setup();
  const ok: Json[] = [
    pod({ volumes: [{ name: 'data', emptyDir: {} }], containers: [app({ volumeMounts: [{ name: 'data', mountPath: '/data' }], env: [{ name: 'A', value: '' }] })] }),
    // The same hostPort on another protocol or hostIP is another port.
    pod({ containers: [app({ ports: [{ containerPort: 80, hostPort: 8085 }, { containerPort: 80, hostPort: 8085, protocol: 'UDP' }] }), { name: 'b', image: 'busybox:1.36', ports: [{ containerPort: 81, hostPort: 8085, hostIP: '127.0.0.1' }] }] }),
    // On the host's network an unset hostPort becomes the containerPort.
    pod({ hostNetwork: true, containers: [app({ ports: [{ containerPort: 9100 }, { containerPort: 9101, hostPort: 9101 }] })] }),
    pod({ activeDeadlineSeconds: 1, containers: [app({ resources: { requests: { cpu: '500m', memory: '100Mi' }, limits: { cpu: '0.5', memory: '1Gi' } } })] }),
    pod({ initContainers: [{ name: 'sidecar', image: 'busybox:1.36', restartPolicy: 'Always', readinessProbe: { exec: { command: ['true'] } }, livenessProbe: { exec: { command: ['true'] }, successThreshold: 1 } }] }),
    pod({ containers: [app({ readinessProbe: { exec: { command: ['true'] }, successThreshold: 3 } })] }),
    pod({ dnsPolicy: 'None', dnsConfig: { nameservers: ['1.1.1.1'] }, hostname: 'web-0', subdomain: 'web' }),
    pod({}, { labels: { 'app.kubernetes.io/name': 'a'.repeat(63), empty: '', 'My_Key.x': 'Value_1' } }),
  ];
  ok.forEach((p, i) => r.create(podType, 'default', { ...p, metadata: { ...p.metadata, name: `ok-${i}` } }));
  assert.equal(r.get(podType, 'default', 'ok-2').spec.containers[0].ports[0].hostPort, 9100);
});

test('a negative terminationGracePeriodSeconds is taken as 1 on a pod, not refused', () => {
  const r = setup();
  const created = r.create(podType, 'default', pod({ terminationGracePeriodSeconds: -5 }));
  assert.equal(created.spec.terminationGracePeriodSeconds, 1);
});

test('a pod template\'s spec is held to the same rules; its hostNetwork ports may leave hostPort unset', () => {
  const r = setup();
  const template = (spec: Json, labels: Json = {}) => ({ metadata: { name: 't' }, template: { metadata: { labels }, spec: { containers: [app()], ...spec } } });
  assert.throws(() => r.create(podTemplateType, 'default', template({ volumes: [{ name: 'v', emptyDir: {} }, { name: 'v', emptyDir: {} }] })),
    (e: unknown) => e instanceof ApiError && e.code === 422 && e.message === 'PodTemplate "t" is invalid: template.spec.volumes[1].name: Duplicate value: "v"');
  assert.throws(() => r.create(podTemplateType, 'default', template({}, { x: 'b'.repeat(64) })),
    (e: unknown) => e instanceof ApiError && e.message === `PodTemplate "t" is invalid: template.metadata.labels: Invalid value: "${'b'.repeat(64)}": must be no more than 63 characters`);
  r.create(podTemplateType, 'default', template({ hostNetwork: true, containers: [app({ ports: [{ containerPort: 80 }] })] }));
});
