import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveAgentConfig, type AgentFlags } from '../../src/agent/config/resolve-config.ts';
import { ConfigError } from '../../src/agent/config/config-error.ts';
import { parseDuration, parseLabels, parseTaints } from '../../src/agent/config/value-parsers.ts';

const header = 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n';

function resolve(flags: AgentFlags, file?: string) {
  return resolveAgentConfig({ hostnameOverride: 'node-a', ...flags, ...(file !== undefined ? { config: 'cfg.yaml' } : {}) }, () => file ?? '');
}

test('defaults follow the kubelet', () => {
  const { config } = resolve({});
  assert.equal(config.containerRuntimeEndpoint, 'unix:///run/containerd/containerd.sock');
  assert.equal(config.rootDir, '/var/lib/mini-kubelet');
  assert.equal(config.podLogsDir, '/var/log/pods');
  assert.equal(config.maxPods, 110);
  assert.equal(config.port, 10250);
  assert.equal(config.healthzPort, 10248);
  assert.equal(config.kubeconfig, undefined);
  assert.equal(config.networkMode, 'runtime');
  // Pod syncs at once: 8 held 5,000 pods' starts (and 1 s kill waits on delete) in a queue.
  assert.equal(config.maxParallelSyncs, 64);
});

test('node name comes from --hostname-override, lower-cased', () => {
  assert.equal(resolve({ hostnameOverride: 'Worker-1' }).config.nodeName, 'worker-1');
});

test('labels and taints parse from the kubelet syntax', () => {
  assert.deepEqual(parseLabels('--node-labels', 'a=b, example.com/zone=z1,empty='), { a: 'b', 'example.com/zone': 'z1', empty: '' });
  assert.deepEqual(parseTaints('--register-with-taints', 'dedicated=gpu:NoSchedule,maint:NoExecute'), [
    { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' },
    { key: 'maint', effect: 'NoExecute' },
  ]);
});

test('durations use Go syntax', () => {
  assert.equal(parseDuration('x', '2m0s'), 120_000);
  assert.equal(parseDuration('x', '1h30m'), 5_400_000);
  assert.equal(parseDuration('x', '250ms'), 250);
  assert.throws(() => parseDuration('x', '10 seconds'), ConfigError);
});

test('the config file sets fields under kubelet names and flags override it', () => {
  const file = `${header}maxPods: 20\nstaticPodPath: /etc/static\nhealthzPort: 0\nruntimeRequestTimeout: 30s\n` +
    `registerWithTaints:\n- key: k\n  value: v\n  effect: NoSchedule\nnodeLeaseDurationSeconds: 20\nclusterDNS: [10.0.0.10]\n`;
  const { config, ignoredFileFields } = resolve({ maxPods: '7' }, file);
  assert.equal(config.maxPods, 7);
  assert.equal(config.podManifestPath, '/etc/static');
  assert.equal(config.healthzPort, 0);
  assert.equal(config.runtimeRequestTimeoutMs, 30_000);
  assert.deepEqual(config.registerWithTaints, [{ key: 'k', value: 'v', effect: 'NoSchedule' }]);
  assert.equal(config.intervals.leaseDurationSeconds, 20);
  assert.equal(config.intervals.leaseRenewMs, 5_000);
  assert.deepEqual(ignoredFileFields, ['clusterDNS']);
});

test('--kube-api-qps and --kube-api-burst: the kubelet\'s defaults 50 and 100; from the file as kubeAPIQPS and kubeAPIBurst, flags override', () => {
  const table: Array<[string, AgentFlags, string | undefined, number, number]> = [
    ['defaults', {}, undefined, 50, 100],
    ['flags', { kubeApiQps: '5', kubeApiBurst: '1' }, undefined, 5, 1],
    ['zero stays zero (the limiter reads it as client-go\'s defaults)', { kubeApiQps: '0', kubeApiBurst: '0' }, undefined, 0, 0],
    ['file', {}, `${header}kubeAPIQPS: 1000\nkubeAPIBurst: 2000\n`, 1000, 2000],
    ['flag over file', { kubeApiQps: '7' }, `${header}kubeAPIQPS: 1000\nkubeAPIBurst: 2000\n`, 7, 2000],
  ];
  for (const [name, flags, file, qps, burst] of table) {
    const { config, ignoredFileFields } = resolve(flags, file);
    assert.deepEqual([config.kubeAPIQPS, config.kubeAPIBurst], [qps, burst], name);
    assert.deepEqual(ignoredFileFields, [], name);
  }
});

test('node API security defaults are KubeletConfiguration v1beta1\'s: no anonymous, token webhook, Webhook authorization', () => {
  const { config } = resolve({});
  assert.deepEqual(config.authentication, { x509: {}, webhook: { enabled: true, cacheTtlMs: 120_000 }, anonymous: { enabled: false } });
  assert.deepEqual(config.authorization, { mode: 'Webhook', webhook: { cacheAuthorizedTtlMs: 300_000, cacheUnauthorizedTtlMs: 30_000 } });
  assert.equal(config.tlsCertFile, undefined);
});

test('node API TLS, authentication and authorization come from the file under kubelet names, flags override', () => {
  const file = `${header}tlsCertFile: /pki/k.crt\ntlsPrivateKeyFile: /pki/k.key\n` +
    'authentication:\n  x509: {clientCAFile: /pki/ca.crt}\n  webhook: {enabled: false, cacheTTL: 10s}\n  anonymous: {enabled: true}\n' +
    'authorization:\n  mode: AlwaysAllow\n  webhook: {cacheAuthorizedTTL: 1m, cacheUnauthorizedTTL: 5s}\n';
  const fromFile = resolve({}, file);
  assert.deepEqual(fromFile.ignoredFileFields, []);
  assert.equal(fromFile.config.tlsCertFile, '/pki/k.crt');
  assert.equal(fromFile.config.tlsPrivateKeyFile, '/pki/k.key');
  assert.deepEqual(fromFile.config.authentication, { x509: { clientCAFile: '/pki/ca.crt' }, webhook: { enabled: false, cacheTtlMs: 10_000 }, anonymous: { enabled: true } });
  assert.deepEqual(fromFile.config.authorization, { mode: 'AlwaysAllow', webhook: { cacheAuthorizedTtlMs: 60_000, cacheUnauthorizedTtlMs: 5_000 } });

  const { config } = resolve({
    clientCaFile: '/other/ca.crt', anonymousAuth: 'false', authenticationTokenWebhook: true, authenticationTokenWebhookCacheTtl: '0s',
    authorizationMode: 'Webhook', authorizationWebhookCacheAuthorizedTtl: '2m', authorizationWebhookCacheUnauthorizedTtl: '1s',
  }, file);
  assert.deepEqual(config.authentication, { x509: { clientCAFile: '/other/ca.crt' }, webhook: { enabled: true, cacheTtlMs: 0 }, anonymous: { enabled: false } });
  assert.deepEqual(config.authorization, { mode: 'Webhook', webhook: { cacheAuthorizedTtlMs: 120_000, cacheUnauthorizedTtlMs: 1_000 } });
  // The defaults object is not shared: one config's change does not leak into the next.
  assert.equal(resolve({}).config.authentication.anonymous.enabled, false);
});

test('--allowed-unsafe-sysctls: comma-separated and repeatable, patterns ending in *; the file\'s allowedUnsafeSysctls, overridden by the flag', () => {
  assert.deepEqual(resolve({}).config.allowedUnsafeSysctls, []);
  assert.deepEqual(resolve({ allowedUnsafeSysctls: ['kernel.msg*,net.core.somaxconn', 'kernel.sem'] }).config.allowedUnsafeSysctls, ['kernel.msg*', 'net.core.somaxconn', 'kernel.sem']);
  // Slash-separated names are accepted as the kubelet accepts them.
  assert.deepEqual(resolve({ allowedUnsafeSysctls: ['net/ipv4/conf/eth0.100/rp_filter'] }).config.allowedUnsafeSysctls, ['net/ipv4/conf/eth0.100/rp_filter']);
  const file = `${header}allowedUnsafeSysctls: [fs.mqueue.*]\n`;
  assert.deepEqual(resolve({}, file).config.allowedUnsafeSysctls, ['fs.mqueue.*']);
  assert.deepEqual(resolve({ allowedUnsafeSysctls: ['net.*'] }, file).config.allowedUnsafeSysctls, ['net.*']);
});

const rejected: Array<[string, AgentFlags, string | undefined, RegExp]> = [
  ['bad label', { nodeLabels: 'novalue' }, undefined, /--node-labels/],
  ['bad label key', { nodeLabels: '-x=1' }, undefined, /--node-labels: invalid label key/],
  ['bad taint effect', { registerWithTaints: 'a=b:Sometimes' }, undefined, /--register-with-taints: invalid taint effect/],
  ['taint without effect', { registerWithTaints: 'a=b' }, undefined, /--register-with-taints/],
  ['max pods not a number', { maxPods: 'many' }, undefined, /--max-pods/],
  ['port out of range', { port: '70000' }, undefined, /--port/],
  ['network mode', { networkMode: 'bridge' }, undefined, /--network-mode/],
  ['log level', { logLevel: 'loud' }, undefined, /--log-level/],
  ['unknown file field', {}, `${header}maxPod: 3\n`, /^maxPod: unknown field/],
  ['wrong field type', {}, `${header}maxPods: "3"\n`, /^maxPods: must be an integer, got string/],
  ['wrong kind', {}, 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: Pod\n', /kind/],
  ['bad duration in file', {}, `${header}runtimeRequestTimeout: soon\n`, /^runtimeRequestTimeout/],
  ['bad taint in file', {}, `${header}registerWithTaints:\n- key: a\n  effect: Never\n`, /registerWithTaints\[0\]/],
  ['not yaml', {}, `${header}maxPods: [\n`, /not valid YAML/],
  ['unknown authorization mode', { authorizationMode: 'RBAC' }, undefined, /--authorization-mode: "RBAC" is not one of Webhook, AlwaysAllow/],
  ['not a boolean', { anonymousAuth: 'maybe' }, undefined, /--anonymous-auth: "maybe" is not true or false/],
  ['a certificate without its key', { tlsCertFile: '/k.crt' }, undefined, /--tls-private-key-file: .* together/],
  ['a bad cache TTL', { authenticationTokenWebhookCacheTtl: 'long' }, undefined, /--authentication-token-webhook-cache-ttl/],
  ['unknown authentication field', {}, `${header}authentication: {x509: {caFile: /x}}\n`, /^authentication\.x509\.caFile: unknown field/],
  ['a non-boolean in the file', {}, `${header}authentication: {anonymous: {enabled: "yes"}}\n`, /^authentication\.anonymous\.enabled: must be true or false/],
  ['a bad mode in the file', {}, `${header}authorization: {mode: Node}\n`, /^authorization\.mode: must be one of/],
  ['an unsafe sysctl not known to be namespaced', { allowedUnsafeSysctls: ['net.core.somaxconn,vm.swappiness'] }, undefined, /--allowed-unsafe-sysctls: the sysctl "vm.swappiness" is not known to be namespaced/],
  ['a bare * for unsafe sysctls', { allowedUnsafeSysctls: ['*'] }, undefined, /--allowed-unsafe-sysctls: the sysctl "\*" is not known to be namespaced/],
  ['a malformed unsafe sysctl', { allowedUnsafeSysctls: ['Kernel.Msg*'] }, undefined, /--allowed-unsafe-sysctls: sysctl "Kernel.Msg\*" must have/],
  ['unsafe sysctls in the file that are not a list', {}, `${header}allowedUnsafeSysctls: "net.*"\n`, /^allowedUnsafeSysctls: must be a list of strings/],
  ['a negative --kube-api-qps', { kubeApiQps: '-1' }, undefined, /^--kube-api-qps: "-1" is not an integer in \[0, 2147483647\]/],
  ['a fractional --kube-api-qps (int32, as the kubelet\'s)', { kubeApiQps: '2.5' }, undefined, /^--kube-api-qps: "2.5" is not an integer/],
  ['a negative --kube-api-burst', { kubeApiBurst: '-3' }, undefined, /^--kube-api-burst: "-3"/],
  ['a --kube-api-burst past int32', { kubeApiBurst: '2147483648' }, undefined, /^--kube-api-burst/],
  ['a negative kubeAPIQPS in the file', {}, `${header}kubeAPIQPS: -1\n`, /^kubeAPIQPS: "-1" is not an integer in \[0,/],
  ['a kubeAPIBurst in the file that is a string', {}, `${header}kubeAPIBurst: "10"\n`, /^kubeAPIBurst: must be an integer, got string/],
  ['an unsafe sysctl in the file not known to be namespaced', {}, `${header}allowedUnsafeSysctls: [kernel.panic]\n`, /^allowedUnsafeSysctls: the sysctl "kernel.panic"/],
];

for (const [name, flags, file, message] of rejected) {
  test(`rejects ${name} with a message naming the field`, () => {
    assert.throws(() => resolve(flags, file), (err: unknown) => err instanceof ConfigError && message.test(err.message));
  });
}
