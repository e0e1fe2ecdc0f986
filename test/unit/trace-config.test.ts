// The tracing settings as flags and KubeletConfiguration fields: --tracing-endpoint and
// tracing.{endpoint, samplingRatePerMillion}, --pod-timelines; bad values are ConfigErrors naming
// the flag or field, and the command exits 2 with that message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { resolveAgentConfig } from '../../src/agent/config/resolve-config.ts';
import { ConfigError } from '../../src/agent/config/config-error.ts';

const base = { hostnameOverride: 'n1' };
const file = (yaml: string) => resolveAgentConfig({ ...base, config: '/k.yaml' }, () => `kind: KubeletConfiguration\napiVersion: kubelet.config.k8s.io/v1beta1\n${yaml}`).config;

test('defaults: timelines on, no endpoint, every trace sampled once there is one', () => {
  const c = resolveAgentConfig(base).config;
  assert.equal(c.podTimelines, true);
  assert.equal(c.tracing.endpoint, undefined);
  assert.equal(c.tracing.samplingRatePerMillion, 1_000_000);
});

test('--tracing-endpoint host:port and --pod-timelines=false', () => {
  const c = resolveAgentConfig({ ...base, tracingEndpoint: 'otel-collector.monitoring:4317', podTimelines: 'false' }).config;
  assert.equal(c.tracing.endpoint, 'otel-collector.monitoring:4317');
  assert.equal(c.podTimelines, false);
  assert.equal(resolveAgentConfig({ ...base, tracingEndpoint: '[::1]:4317', podTimelines: true }).config.tracing.endpoint, '[::1]:4317');
});

test('the KubeletConfiguration tracing field; the flag wins over the file', () => {
  const c = file('tracing:\n  endpoint: localhost:4317\n  samplingRatePerMillion: 250000\n');
  assert.deepEqual(c.tracing, { endpoint: 'localhost:4317', samplingRatePerMillion: 250_000 });
  const both = resolveAgentConfig({ ...base, config: '/k.yaml', tracingEndpoint: 'other:4317' }, () => 'kind: KubeletConfiguration\napiVersion: kubelet.config.k8s.io/v1beta1\ntracing:\n  endpoint: localhost:4317\n').config;
  assert.equal(both.tracing.endpoint, 'other:4317');
});

test('bad values are ConfigErrors naming the flag or field', () => {
  const cases: Array<[() => unknown, RegExp]> = [
    [() => resolveAgentConfig({ ...base, tracingEndpoint: 'http://localhost:4317' }), /--tracing-endpoint/],
    [() => resolveAgentConfig({ ...base, tracingEndpoint: 'localhost' }), /--tracing-endpoint/],
    [() => resolveAgentConfig({ ...base, tracingEndpoint: 'localhost:70000' }), /--tracing-endpoint/],
    [() => resolveAgentConfig({ ...base, podTimelines: 'maybe' }), /--pod-timelines/],
    [() => file('tracing:\n  samplingRatePerMillion: 1000001\n'), /tracing\.samplingRatePerMillion/],
    [() => file('tracing:\n  samplingRatePerMillion: -1\n'), /tracing\.samplingRatePerMillion/],
    [() => file('tracing:\n  endpoint: 4317\n'), /tracing\.endpoint/],
    [() => file('tracing:\n  endpoint: "a b:1"\n'), /tracing\.endpoint/],
    [() => file('tracing:\n  sampler: always\n'), /tracing\.sampler/],
    [() => file('tracing: on\n'), /tracing/],
  ];
  for (const [fn, names] of cases) {
    assert.throws(fn, (err: unknown) => err instanceof ConfigError && names.test(err.message), String(fn));
  }
});

test('the command exits 2 on a bad --tracing-endpoint, saying why', async () => {
  const bin = join(import.meta.dirname, '../../bin/mini-kubelet.mjs');
  const child = spawn(process.execPath, [bin, '--hostname-override', 'n1', '--tracing-endpoint', 'no-port'], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 2, stderr);
  assert.match(stderr, /--tracing-endpoint.*no-port/);
});
