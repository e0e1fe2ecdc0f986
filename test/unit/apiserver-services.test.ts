// Services in the dev control plane as kube-apiserver's registry takes them: v1 defaults, cluster
// IPs from 10.96.0.0/12 and node ports from 30000-32767 (never one another Service holds), the
// IP-family fields, validation texts, what an update keeps or refuses, and the kubectl table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '../../src/apiserver/errors.ts';
import { resourceTypes } from '../../src/apiserver/registry.ts';
import { ResourceService } from '../../src/apiserver/resources.ts';
import { ObjectStore, type KubeObject } from '../../src/apiserver/store.ts';
import { toTable } from '../../src/apiserver/tables.ts';
import { kubernetesService } from '../../src/apiserver/service-objects.ts';

const serviceType = resourceTypes.find((t) => t.plural === 'services' && !t.group)!;
const namespaceType = resourceTypes.find((t) => t.plural === 'namespaces')!;

function setup(): ResourceService {
  const resources = new ResourceService(new ObjectStore());
  resources.create(namespaceType, '', { metadata: { name: 'default' } });
  return resources;
}

const create = (r: ResourceService, name: string, spec: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  r.create(serviceType, 'default', { metadata: { name }, spec, ...extra });

/** The ApiError a write throws (code and message), or fails the test. */
function refusal(write: () => unknown): { code: number; message: string; reason: string } {
  try {
    write();
  } catch (err) {
    if (err instanceof ApiError) return { code: err.code, message: err.message, reason: err.reason };
    throw err;
  }
  assert.fail('the write was accepted');
}

const inRange = (ip: string) => {
  const [a, b] = ip.split('.').map(Number);
  return a === 10 && b! >= 96 && b! <= 111 && ip !== '10.96.0.0' && ip !== '10.111.255.255';
};

test('a ClusterIP Service gets kube\'s defaults and an IP from the service range', () => {
  const r = setup();
  const svc = create(r, 'web', { selector: { app: 'web' }, ports: [{ port: 80 }] });
  assert.equal(svc.spec.type, 'ClusterIP');
  assert.equal(svc.spec.sessionAffinity, 'None');
  assert.equal(svc.spec.internalTrafficPolicy, 'Cluster');
  assert.equal(svc.spec.ipFamilyPolicy, 'SingleStack');
  assert.deepEqual(svc.spec.ipFamilies, ['IPv4']);
  assert.deepEqual(svc.spec.ports, [{ port: 80, protocol: 'TCP', targetPort: 80 }]);
  assert.ok(inRange(svc.spec.clusterIP), svc.spec.clusterIP);
  assert.deepEqual(svc.spec.clusterIPs, [svc.spec.clusterIP]);
  assert.equal(svc.spec.externalTrafficPolicy, undefined, 'only for externally reachable Services');
  assert.deepEqual(svc.status, { loadBalancer: {} });
});

test('a named target port stays a name; ClientIP affinity gets its 3 h timeout', () => {
  const r = setup();
  const svc = create(r, 'named', { sessionAffinity: 'ClientIP', ports: [{ name: 'http', port: 80, targetPort: 'http-alt' }] });
  assert.equal(svc.spec.ports[0].targetPort, 'http-alt');
  assert.deepEqual(svc.spec.sessionAffinityConfig, { clientIP: { timeoutSeconds: 10800 } });
});

test('allocated cluster IPs are never handed out twice, and a requested one in use is refused', () => {
  const r = setup();
  const ips = new Set<string>();
  for (let i = 0; i < 40; i++) ips.add(create(r, `s${i}`, { ports: [{ port: 80 }] }).spec.clusterIP);
  assert.equal(ips.size, 40);
  const taken = [...ips][0]!;
  assert.deepEqual(refusal(() => create(r, 'dup', { clusterIP: taken, ports: [{ port: 80 }] })), {
    code: 422, reason: 'Invalid',
    message: `Service "dup" is invalid: spec.clusterIPs: Invalid value: []string{"${taken}"}: failed to allocate IP ${taken}: provided IP is already allocated`,
  });
  assert.match(refusal(() => create(r, 'far', { clusterIP: '192.168.1.1', ports: [{ port: 80 }] })).message,
    /^Service "far" is invalid: spec.clusterIPs: Invalid value: \[\]string\{"192.168.1.1"\}: failed to allocate IP 192.168.1.1: provided IP is not in the valid range. The range of valid IPs is 10.96.0.0\/12$/);
  // Deleting a Service frees its IP for a request.
  r.delete(serviceType, 'default', 's0', {});
  const freed = r.store.get('services', 'default', 's1')!.spec.clusterIP;
  r.delete(serviceType, 'default', 's1', {});
  assert.equal(create(r, 'again', { clusterIP: freed, ports: [{ port: 80 }] }).spec.clusterIP, freed);
});

test('a requested cluster IP is kept, and clusterIPs follows clusterIP', () => {
  const r = setup();
  const svc = create(r, 'fixed', { clusterIP: '10.96.7.7', ports: [{ port: 5432 }] });
  assert.equal(svc.spec.clusterIP, '10.96.7.7');
  assert.deepEqual(svc.spec.clusterIPs, ['10.96.7.7']);
  assert.match(refusal(() => create(r, 'mismatch', { clusterIP: '10.96.7.8', clusterIPs: ['10.96.7.9'], ports: [{ port: 1 }] })).message,
    /spec.clusterIPs: Invalid value: \[\]string\{"10.96.7.9"\}: first value must match `clusterIP`/);
  assert.match(refusal(() => create(r, 'notip', { clusterIP: '10.96.7.300', ports: [{ port: 1 }] })).message,
    /spec.clusterIPs\[0\]: Invalid value: "10.96.7.300": must be a valid IP address, \(e.g. 10.9.8.7 or 2001:db8::ffff\)/);
});

test('a headless Service keeps None and needs no ports; selectorless, it names both families as kube does', () => {
  const r = setup();
  const withSelector = create(r, 'hl', { clusterIP: 'None', selector: { app: 'db' } });
  assert.equal(withSelector.spec.clusterIP, 'None');
  assert.deepEqual(withSelector.spec.clusterIPs, ['None']);
  assert.equal(withSelector.spec.ipFamilyPolicy, 'SingleStack');
  assert.deepEqual(withSelector.spec.ipFamilies, ['IPv4']);
  const selectorless = create(r, 'hl2', { clusterIP: 'None' });
  assert.equal(selectorless.spec.ipFamilyPolicy, 'RequireDualStack');
  assert.deepEqual(selectorless.spec.ipFamilies, ['IPv4', 'IPv6']);
});

test('ports are required, numbered 1-65535, named when more than one, each name once', () => {
  const r = setup();
  assert.equal(refusal(() => create(r, 'noports', {})).message, 'Service "noports" is invalid: spec.ports: Required value');
  assert.equal(refusal(() => create(r, 'np', { type: 'NodePort' })).message, 'Service "np" is invalid: spec.ports: Required value');
  assert.equal(refusal(() => create(r, 'range', { ports: [{ port: 70000, targetPort: 80 }] })).message,
    'Service "range" is invalid: spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive');
  assert.equal(refusal(() => create(r, 'unnamed', { ports: [{ name: 'a', port: 80 }, { port: 81 }] })).message,
    'Service "unnamed" is invalid: spec.ports[1].name: Required value');
  assert.equal(refusal(() => create(r, 'twice', { ports: [{ name: 'a', port: 80 }, { name: 'a', port: 81 }] })).message,
    'Service "twice" is invalid: spec.ports[1].name: Duplicate value: "a"');
  assert.equal(refusal(() => create(r, 'proto', { ports: [{ port: 80, protocol: 'ICMP' }] })).message,
    'Service "proto" is invalid: spec.ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"');
  assert.equal(refusal(() => create(r, 'same', { ports: [{ name: 'a', port: 80 }, { name: 'b', port: 80 }] })).message,
    'Service "same" is invalid: spec.ports[1]: Duplicate value: core.ServicePort{Name:"", Protocol:"TCP", AppProtocol:(*string)(nil), Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}');
  assert.equal(refusal(() => create(r, 'tp', { ports: [{ port: 80, targetPort: 'Http' }] })).message,
    'Service "tp" is invalid: spec.ports[0].targetPort: Invalid value: "Http": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  assert.equal(refusal(() => create(r, 'kind', { type: 'Magic', ports: [{ port: 80 }] })).message,
    'Service "kind" is invalid: spec.type: Unsupported value: "Magic": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"');
  // One error per problem, as kube lists them.
  assert.equal(refusal(() => create(r, 'two', { ports: [{ name: 'x', port: 0 }, { name: 'x', port: 80 }] })).message,
    'Service "two" is invalid: [spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive, spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive, spec.ports[1].name: Duplicate value: "x"]');
});

test('a port that is not a number fails decoding (400), as kube-apiserver\'s decoder does', () => {
  const r = setup();
  const bad = refusal(() => create(r, 'str', { ports: [{ port: '80' }] }));
  assert.equal(bad.code, 400);
  assert.equal(bad.message, 'Service in version "v1" cannot be handled as a Service: json: cannot unmarshal string into Go struct field ServicePort.spec.ports.port of type int32');
  assert.match(refusal(() => create(r, 'frac', { ports: [{ port: 80.5 }] })).message, /cannot unmarshal number 80.5 into Go struct field ServicePort.spec.ports.port of type int32$/);
  // targetPort is int-or-string: both decode.
  assert.equal(create(r, 'ok', { ports: [{ name: 'a', port: 80, targetPort: 'web' }, { name: 'b', port: 81, targetPort: 8081 }] }).spec.ports[1].targetPort, 8081);
});

test('a Service name is a DNS-1035 label', () => {
  const r = setup();
  assert.equal(refusal(() => create(r, '1web', { ports: [{ port: 80 }] })).message,
    'Service "1web" is invalid: metadata.name: Invalid value: "1web": a DNS-1035 label must consist of lower case alphanumeric characters or \'-\', start with an alphabetic character, and end with an alphanumeric character (e.g. \'my-name\',  or \'abc-123\', regex used for validation is \'[a-z]([-a-z0-9]*[a-z0-9])?\')');
});

test('NodePort Services get node ports from 30000-32767; one in use or out of range is refused', () => {
  const r = setup();
  const svc = create(r, 'np', { type: 'NodePort', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53 }, { name: 'web', port: 80 }] });
  const [udp, tcp, web] = svc.spec.ports.map((p: any) => p.nodePort);
  for (const n of [udp, tcp, web]) assert.ok(n >= 30000 && n <= 32767, String(n));
  assert.equal(udp, tcp, 'the same port number shares a node port');
  assert.notEqual(web, udp);
  assert.equal(svc.spec.externalTrafficPolicy, 'Cluster');
  assert.equal(refusal(() => create(r, 'np2', { type: 'NodePort', ports: [{ port: 80, nodePort: web }] })).message,
    `Service "np2" is invalid: spec.ports[0].nodePort: Invalid value: ${web}: provided port is already allocated`);
  assert.equal(refusal(() => create(r, 'np3', { type: 'NodePort', ports: [{ port: 80, nodePort: 8080 }] })).message,
    'Service "np3" is invalid: spec.ports[0].nodePort: Invalid value: 8080: provided port is not in the valid range. The range of valid ports is 30000-32767');
  assert.equal(refusal(() => create(r, 'cip', { ports: [{ port: 80, nodePort: 30555 }] })).message,
    'Service "cip" is invalid: spec.ports[0].nodePort: Forbidden: may not be used when `type` is \'ClusterIP\'');
  assert.equal(create(r, 'np4', { type: 'NodePort', ports: [{ port: 80, nodePort: 30555 }] }).spec.ports[0].nodePort, 30555);
  assert.equal(refusal(() => create(r, 'hl', { type: 'NodePort', clusterIP: 'None', ports: [{ port: 80 }] })).message,
    'Service "hl" is invalid: spec.clusterIPs[0]: Invalid value: "None": may not be set to \'None\' for NodePort services');
});

test('ExternalName Services get no cluster IP and need an external name', () => {
  const r = setup();
  const svc = create(r, 'ext', { type: 'ExternalName', externalName: 'db.example.com' });
  assert.equal(svc.spec.clusterIP, undefined);
  assert.equal(svc.spec.ipFamilies, undefined);
  assert.equal(svc.spec.ipFamilyPolicy, undefined);
  assert.equal(refusal(() => create(r, 'ext2', { type: 'ExternalName' })).message, 'Service "ext2" is invalid: spec.externalName: Required value');
});

test('an update keeps what was allocated when the client leaves it out, and refuses a changed cluster IP', () => {
  const r = setup();
  const svc = create(r, 'web', { type: 'NodePort', selector: { app: 'web' }, ports: [{ port: 80 }] });
  // A PUT of the original manifest: no clusterIP, no nodePort, no families.
  const replaced = r.update(serviceType, 'default', 'web', {
    metadata: { name: 'web', labels: { v: '2' } }, spec: { type: 'NodePort', selector: { app: 'web' }, ports: [{ port: 80 }] },
  });
  assert.equal(replaced.spec.clusterIP, svc.spec.clusterIP);
  assert.deepEqual(replaced.spec.clusterIPs, svc.spec.clusterIPs);
  assert.equal(replaced.spec.ports[0].nodePort, svc.spec.ports[0].nodePort);
  assert.equal(replaced.spec.ipFamilyPolicy, 'SingleStack');

  const moved = refusal(() => r.update(serviceType, 'default', 'web', { ...replaced, spec: { ...replaced.spec, clusterIP: '10.96.0.99' } }));
  assert.equal(moved.code, 422);
  assert.equal(moved.message, 'Service "web" is invalid: spec.clusterIPs[0]: Invalid value: []string{"10.96.0.99"}: may not change once set');
  const patched = refusal(() => r.patch(serviceType, 'default', 'web', 'merge', { spec: { clusterIP: '10.96.0.98', clusterIPs: ['10.96.0.98'] } }));
  assert.match(patched.message, /spec.clusterIPs\[0\]: Invalid value: \[\]string\{"10.96.0.98"\}: may not change once set/);
});

test('a changed type drops what no longer applies, and allocates what the new type needs', () => {
  const r = setup();
  const np = create(r, 'np', { type: 'NodePort', ports: [{ port: 80 }] });
  const asClusterIP = r.patch(serviceType, 'default', 'np', 'merge', { spec: { type: 'ClusterIP' } });
  assert.equal(asClusterIP.spec.ports[0].nodePort, undefined);
  assert.equal(asClusterIP.spec.externalTrafficPolicy, undefined);
  assert.equal(asClusterIP.spec.clusterIP, np.spec.clusterIP);
  const back = r.patch(serviceType, 'default', 'np', 'merge', { spec: { type: 'NodePort' } });
  assert.ok(back.spec.ports[0].nodePort >= 30000);
  const ext = r.patch(serviceType, 'default', 'np', 'merge', { spec: { type: 'ExternalName', externalName: 'x.example.com' } });
  assert.equal(ext.spec.clusterIP, undefined);
  assert.equal(ext.spec.ports[0].nodePort, undefined);
  const again = r.patch(serviceType, 'default', 'np', 'merge', { spec: { type: 'ClusterIP', externalName: null } });
  assert.ok(inRange(again.spec.clusterIP));
});

test('the kubernetes Service kube-apiserver keeps in default', () => {
  const r = setup();
  const svc = r.create(serviceType, 'default', kubernetesService(6443));
  assert.equal(svc.spec.clusterIP, '10.96.0.1');
  assert.deepEqual(svc.spec.ports, [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }]);
  assert.deepEqual(svc.metadata.labels, { component: 'apiserver', provider: 'kubernetes' });
  assert.match(refusal(() => create(r, 'steal', { clusterIP: '10.96.0.1', ports: [{ port: 1 }] })).message, /provided IP is already allocated/);
});

test('kubectl get svc: NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE, and SELECTOR when wide', () => {
  const now = new Date('2026-01-01T00:10:00Z');
  const at = { creationTimestamp: '2026-01-01T00:00:00Z' };
  const rows: KubeObject[] = [
    { metadata: { name: 'kubernetes', ...at }, spec: { type: 'ClusterIP', clusterIPs: ['10.96.0.1'], ports: [{ port: 443, protocol: 'TCP' }] } },
    { metadata: { name: 'np', ...at }, spec: { type: 'NodePort', clusterIPs: ['10.96.3.4'], selector: { b: '2', a: '1' }, ports: [{ port: 80, nodePort: 30080, protocol: 'TCP' }, { port: 53, protocol: 'UDP' }] } },
    { metadata: { name: 'lb', ...at }, spec: { type: 'LoadBalancer', clusterIPs: ['10.96.3.5'], ports: [] }, status: { loadBalancer: {} } },
    { metadata: { name: 'hl', ...at }, spec: { type: 'ClusterIP', clusterIPs: ['None'], externalIPs: ['1.2.3.4'] } },
    { metadata: { name: 'ext', ...at }, spec: { type: 'ExternalName', externalName: 'db.example.com' } },
  ];
  const table = toTable(serviceType, rows, {}, { includeObject: 'None', noHeaders: false }, now);
  assert.deepEqual(table.columnDefinitions.map((c) => `${c.name}:${c.priority}`),
    ['Name:0', 'Type:0', 'Cluster-IP:0', 'External-IP:0', 'Port(s):0', 'Age:0', 'Selector:1']);
  assert.deepEqual(table.rows.map((row) => row.cells), [
    ['kubernetes', 'ClusterIP', '10.96.0.1', '<none>', '443/TCP', '10m', '<none>'],
    ['np', 'NodePort', '10.96.3.4', '<none>', '80:30080/TCP,53/UDP', '10m', 'a=1,b=2'],
    ['lb', 'LoadBalancer', '10.96.3.5', '<pending>', '<none>', '10m', '<none>'],
    ['hl', 'ClusterIP', 'None', '1.2.3.4', '<none>', '10m', '<none>'],
    ['ext', 'ExternalName', '<none>', 'db.example.com', '<none>', '10m', '<none>'],
  ]);
});

test('a Service sent as protobuf (kubectl create service) decodes like its JSON', async () => {
  const { decodeProtobufObject } = await import('../../src/apiserver/protobuf-body.ts');
  const protobuf = (await import('protobufjs')).default;
  const root = protobuf.loadSync(new URL('../../src/apiserver/proto/k8s-objects.proto', import.meta.url).pathname);
  // As Go's encoder writes it: unset scalars as zero values.
  const raw = root.lookupType('k8s.Service').encode({
    metadata: { name: 'web', labels: { app: 'web' } },
    spec: {
      ports: [{ name: '80-8080', protocol: 'TCP', port: 80, targetPort: { type: 0, intVal: 8080, strVal: '' }, nodePort: 0 },
        { name: 'named', protocol: 'TCP', port: 81, targetPort: { type: 1, intVal: 0, strVal: 'http' }, nodePort: 30081 }],
      selector: { app: 'web' }, clusterIP: '', type: 'NodePort', sessionAffinity: '', externalName: '', healthCheckNodePort: 0, publishNotReadyAddresses: false,
    },
  }).finish();
  const unknown = root.lookupType('k8s.Unknown').encode({ typeMeta: { apiVersion: 'v1', kind: 'Service' }, raw, contentEncoding: '', contentType: '' }).finish();
  assert.deepEqual(decodeProtobufObject(Buffer.concat([Buffer.from('k8s\0'), unknown])), {
    apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', labels: { app: 'web' } },
    spec: {
      ports: [{ name: '80-8080', protocol: 'TCP', port: 80, targetPort: 8080 }, { name: 'named', protocol: 'TCP', port: 81, targetPort: 'http', nodePort: 30081 }],
      selector: { app: 'web' }, type: 'NodePort',
    },
  });
});
