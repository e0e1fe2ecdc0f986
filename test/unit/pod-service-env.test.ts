// The service environment variables a container gets (src/pod/service-env.ts), as a table, and
// how they join the container's own env (src/cri/runtime-manager/container-env.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Container, V1Pod, V1Service, V1ServicePort } from '@kubernetes/client-node';
import { envVarsFromServices, serviceEnvFor } from '../../src/pod/service-env.ts';
import { buildContainerConfig } from '../../src/cri/runtime-manager/container-config.ts';

function svc(namespace: string, name: string, clusterIP: string | undefined, ports: V1ServicePort[] = [{ port: 80 }]): V1Service {
  return { metadata: { namespace, name }, spec: { ...(clusterIP === undefined ? {} : { clusterIP }), ports } };
}

const kubernetes = svc('default', 'kubernetes', '10.96.0.1', [{ name: 'https', port: 443 }]);
const kubernetesVars = {
  KUBERNETES_SERVICE_HOST: '10.96.0.1',
  KUBERNETES_SERVICE_PORT: '443',
  KUBERNETES_SERVICE_PORT_HTTPS: '443',
  KUBERNETES_PORT: 'tcp://10.96.0.1:443',
  KUBERNETES_PORT_443_TCP: 'tcp://10.96.0.1:443',
  KUBERNETES_PORT_443_TCP_PROTO: 'tcp',
  KUBERNETES_PORT_443_TCP_PORT: '443',
  KUBERNETES_PORT_443_TCP_ADDR: '10.96.0.1',
};

const cases: Array<{ name: string; services: V1Service[]; namespace?: string; links?: boolean; want: Record<string, string> }> = [
  {
    name: 'one unnamed port: host, port and the Docker-link set',
    services: [svc('shop', 'foo', '10.96.0.10', [{ port: 8080 }])],
    want: {
      FOO_SERVICE_HOST: '10.96.0.10', FOO_SERVICE_PORT: '8080',
      FOO_PORT: 'tcp://10.96.0.10:8080', FOO_PORT_8080_TCP: 'tcp://10.96.0.10:8080', FOO_PORT_8080_TCP_PROTO: 'tcp',
      FOO_PORT_8080_TCP_PORT: '8080', FOO_PORT_8080_TCP_ADDR: '10.96.0.10',
    },
  },
  {
    name: 'several named ports, UDP, dashes in names: SERVICE_PORT and PORT are the first port\'s',
    services: [svc('shop', 'my-db', '10.100.1.2', [{ name: 'sql', port: 5432 }, { name: 'metrics-http', port: 9187 }, { name: 'dns', port: 53, protocol: 'UDP' }])],
    want: {
      MY_DB_SERVICE_HOST: '10.100.1.2', MY_DB_SERVICE_PORT: '5432',
      MY_DB_SERVICE_PORT_SQL: '5432', MY_DB_SERVICE_PORT_METRICS_HTTP: '9187', MY_DB_SERVICE_PORT_DNS: '53',
      MY_DB_PORT: 'tcp://10.100.1.2:5432',
      MY_DB_PORT_5432_TCP: 'tcp://10.100.1.2:5432', MY_DB_PORT_5432_TCP_PROTO: 'tcp', MY_DB_PORT_5432_TCP_PORT: '5432', MY_DB_PORT_5432_TCP_ADDR: '10.100.1.2',
      MY_DB_PORT_9187_TCP: 'tcp://10.100.1.2:9187', MY_DB_PORT_9187_TCP_PROTO: 'tcp', MY_DB_PORT_9187_TCP_PORT: '9187', MY_DB_PORT_9187_TCP_ADDR: '10.100.1.2',
      MY_DB_PORT_53_UDP: 'udp://10.100.1.2:53', MY_DB_PORT_53_UDP_PROTO: 'udp', MY_DB_PORT_53_UDP_PORT: '53', MY_DB_PORT_53_UDP_ADDR: '10.100.1.2',
    },
  },
  {
    name: 'IPv6: bracketed in the URLs, bare in HOST and ADDR',
    services: [svc('shop', 'v6', 'fd00:10:96::a', [{ port: 80, protocol: 'SCTP' }])],
    want: {
      V6_SERVICE_HOST: 'fd00:10:96::a', V6_SERVICE_PORT: '80', V6_PORT: 'sctp://[fd00:10:96::a]:80',
      V6_PORT_80_SCTP: 'sctp://[fd00:10:96::a]:80', V6_PORT_80_SCTP_PROTO: 'sctp', V6_PORT_80_SCTP_PORT: '80', V6_PORT_80_SCTP_ADDR: 'fd00:10:96::a',
    },
  },
  {
    name: 'headless ("None") and unallocated ("" or absent) services are skipped',
    services: [svc('shop', 'headless', 'None'), svc('shop', 'empty', ''), svc('shop', 'absent', undefined)],
    want: {},
  },
  {
    name: 'other namespaces\' services are not seen; default\'s kubernetes always is',
    services: [kubernetes, svc('default', 'other', '10.96.0.20'), svc('elsewhere', 'far', '10.96.0.30')],
    want: kubernetesVars,
  },
  {
    name: 'a pod in default sees all of default\'s services',
    services: [kubernetes, svc('default', 'other', '10.96.0.20', [{ port: 81 }])],
    namespace: 'default',
    want: {
      ...kubernetesVars, OTHER_SERVICE_HOST: '10.96.0.20', OTHER_SERVICE_PORT: '81', OTHER_PORT: 'tcp://10.96.0.20:81',
      OTHER_PORT_81_TCP: 'tcp://10.96.0.20:81', OTHER_PORT_81_TCP_PROTO: 'tcp', OTHER_PORT_81_TCP_PORT: '81', OTHER_PORT_81_TCP_ADDR: '10.96.0.20',
    },
  },
  {
    name: 'enableServiceLinks=false keeps only the master service',
    services: [kubernetes, svc('shop', 'foo', '10.96.0.10')],
    links: false,
    want: kubernetesVars,
  },
  {
    name: 'enableServiceLinks=false in default: still only kubernetes',
    services: [kubernetes, svc('default', 'other', '10.96.0.20')],
    namespace: 'default',
    links: false,
    want: kubernetesVars,
  },
  {
    name: 'a service named kubernetes in the pod\'s namespace wins over the master service, whichever comes first',
    services: [svc('shop', 'kubernetes', '10.96.5.5', [{ port: 8443 }]), kubernetes],
    want: {
      KUBERNETES_SERVICE_HOST: '10.96.5.5', KUBERNETES_SERVICE_PORT: '8443', KUBERNETES_PORT: 'tcp://10.96.5.5:8443',
      KUBERNETES_PORT_8443_TCP: 'tcp://10.96.5.5:8443', KUBERNETES_PORT_8443_TCP_PROTO: 'tcp', KUBERNETES_PORT_8443_TCP_PORT: '8443', KUBERNETES_PORT_8443_TCP_ADDR: '10.96.5.5',
    },
  },
  {
    name: 'a kubernetes service elsewhere is no master service',
    services: [svc('elsewhere', 'kubernetes', '10.96.5.5')],
    want: {},
  },
  {
    name: 'a headless master service gives nothing',
    services: [svc('default', 'kubernetes', 'None')],
    want: {},
  },
];

for (const c of cases) {
  test(`service env: ${c.name}`, () => {
    const env = serviceEnvFor(c.services, c.namespace ?? 'shop', c.links);
    assert.deepEqual(Object.fromEntries(env), c.want);
  });
}

test('service env: the variables come service by service in name order, each in the kubelet\'s order', () => {
  const env = serviceEnvFor([svc('shop', 'zed', '10.0.0.2'), kubernetes, svc('shop', 'alpha', '10.0.0.1', [{ name: 'web', port: 80 }])], 'shop', true);
  assert.deepEqual([...env.keys()].filter((k) => k.endsWith('_SERVICE_HOST')), ['ALPHA_SERVICE_HOST', 'KUBERNETES_SERVICE_HOST', 'ZED_SERVICE_HOST']);
  assert.deepEqual(envVarsFromServices([svc('shop', 'alpha', '10.0.0.1', [{ name: 'web', port: 80 }])]).map((e) => e.name), [
    'ALPHA_SERVICE_HOST', 'ALPHA_SERVICE_PORT', 'ALPHA_SERVICE_PORT_WEB',
    'ALPHA_PORT', 'ALPHA_PORT_80_TCP', 'ALPHA_PORT_80_TCP_PROTO', 'ALPHA_PORT_80_TCP_PORT', 'ALPHA_PORT_80_TCP_ADDR',
  ]);
});

test('service env: a service with a cluster IP but no ports tells only its host', () => {
  assert.deepEqual(envVarsFromServices([svc('shop', 'bare', '10.0.0.9', [])]), [{ name: 'BARE_SERVICE_HOST', value: '10.0.0.9' }]);
});

// How the variables join a container's environment.
const services = [kubernetes, svc('shop', 'foo', '10.96.0.10', [{ name: 'http', port: 8080 }])];

async function configOf(container: V1Container, spec: Partial<NonNullable<V1Pod['spec']>> = {}, withServices = true) {
  const pod: V1Pod = { metadata: { name: 'web', namespace: 'shop', uid: 'u-1' }, spec: { containers: [container], ...spec } };
  return buildContainerConfig({
    pod, container, attempt: 0, imageRef: 'sha256:abc', imageUser: { username: '' }, terminationMessageHostPath: '/tmp/t', devices: undefined, allowPrivileged: false,
    env: {
      nodeName: 'node-1', hostIP: '192.168.0.10', podIPs: ['10.88.0.5'],
      getSecret: async () => undefined,
      getConfigMap: async (_ns, name) => (name === 'settings' ? { data: { FOO_SERVICE_PORT: 'from-configmap' } } : undefined),
      ...(withServices ? { services: async () => services } : {}),
    },
  });
}
const envMap = (config: Awaited<ReturnType<typeof configOf>>) => new Map((config.envs ?? []).map((e) => [e.key, e.value]));

test('container env: the service variables follow the container\'s own; its own names win', async () => {
  const config = await configOf({
    name: 'a',
    envFrom: [{ configMapRef: { name: 'settings' } }],
    env: [{ name: 'FOO_SERVICE_HOST', value: 'mine' }, { name: 'PLAIN', value: 'p' }],
  });
  const keys = (config.envs ?? []).map((e) => e.key);
  assert.deepEqual(keys.slice(0, 3), ['FOO_SERVICE_PORT', 'FOO_SERVICE_HOST', 'PLAIN'], 'the container\'s own first, in order');
  const env = envMap(config);
  assert.equal(env.get('FOO_SERVICE_HOST'), 'mine', 'env wins');
  assert.equal(env.get('FOO_SERVICE_PORT'), 'from-configmap', 'envFrom wins');
  assert.equal(env.get('FOO_SERVICE_PORT_HTTP'), '8080');
  assert.equal(env.get('KUBERNETES_SERVICE_HOST'), '10.96.0.1');
  assert.equal(keys.filter((k) => k === 'FOO_SERVICE_HOST').length, 1, 'no name twice');
});

test('container env: $(VAR) in env values, command and args may name service variables', async () => {
  const config = await configOf({
    name: 'a',
    command: ['wget', 'http://$(FOO_SERVICE_HOST):$(FOO_SERVICE_PORT_HTTP)/'],
    args: ['$(KUBERNETES_PORT)', '$$(FOO_SERVICE_HOST)', '$(NOPE)'],
    env: [
      { name: 'URL', value: 'http://$(FOO_SERVICE_HOST):$(FOO_SERVICE_PORT)' },
      // Its own value still expands against the service's, then replaces it.
      { name: 'FOO_SERVICE_HOST', value: 'via-$(FOO_SERVICE_HOST)' },
    ],
  });
  const env = envMap(config);
  assert.equal(env.get('URL'), 'http://10.96.0.10:8080');
  assert.equal(env.get('FOO_SERVICE_HOST'), 'via-10.96.0.10');
  assert.deepEqual(config.command, ['wget', 'http://via-10.96.0.10:8080/']);
  assert.deepEqual(config.args, ['tcp://10.96.0.1:443', '$(FOO_SERVICE_HOST)', '$(NOPE)']);
});

test('container env: enableServiceLinks=false leaves only the master service; no source (standalone): none', async () => {
  const off = envMap(await configOf({ name: 'a' }, { enableServiceLinks: false }));
  assert.equal(off.get('KUBERNETES_SERVICE_HOST'), '10.96.0.1');
  assert.ok(![...off.keys()].some((k) => k?.startsWith('FOO_')), [...off.keys()].join(', '));
  const standalone = await configOf({ name: 'a', env: [{ name: 'X', value: '$(KUBERNETES_SERVICE_HOST)' }] }, {}, false);
  assert.deepEqual(standalone.envs, [{ key: 'X', value: '$(KUBERNETES_SERVICE_HOST)' }]);
});

test('container env: a source that refuses (services not listed yet) fails the config', async () => {
  const pod: V1Pod = { metadata: { name: 'web', namespace: 'shop' }, spec: { containers: [{ name: 'a' }] } };
  await assert.rejects(buildContainerConfig({
    pod, container: pod.spec!.containers[0]!, attempt: 0, imageRef: 'sha256:abc', imageUser: { username: '' }, terminationMessageHostPath: '/tmp/t', devices: undefined, allowPrivileged: false,
    env: { nodeName: 'n', hostIP: '1.2.3.4', podIPs: [], getSecret: async () => undefined, getConfigMap: async () => undefined, services: async () => { throw new Error('not yet'); } },
  }), /not yet/);
});
