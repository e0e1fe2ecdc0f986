// The fuzzer's generator: a spec is a function of (seed, index) alone, so `--seed S --only I`
// rebuilds it; accepted specs keep to kube's name rules; every refusal kind is drawn.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateCase, REFUSAL_NAMES, type GenContext } from '../../src/fuzz/generate-pod.ts';
import { mulberry32, specSeed } from '../../src/fuzz/prng.ts';

const ctx: GenContext = {
  nodeName: 'n', images: { good: ['busybox:1.36'], missing: ['example.com/missing:1'] }, hostPortBase: 31000,
  configMap: 'cm', secret: 's', bogusRuntimeClass: 'bogus', runLabel: ['fuzz.mini-kubelet.dev/run', 's1'],
};
const subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

test('mulberry32 is deterministic and spreads over [0, 1)', () => {
  const a = mulberry32(42);
  const b = mulberry32(42);
  const xs = Array.from({ length: 1000 }, () => a());
  assert.deepEqual(xs, Array.from({ length: 1000 }, () => b()));
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  assert.ok(Math.abs(xs.reduce((s, x) => s + x, 0) / xs.length - 0.5) < 0.05);
  assert.notEqual(specSeed(1, 0), specSeed(1, 1));
  assert.notEqual(specSeed(1, 0), specSeed(2, 0));
});

test('spec I of seed S is the same whether drawn alone or in a run', () => {
  const run = Array.from({ length: 50 }, (_, i) => generateCase(7, i, ctx));
  assert.deepEqual(generateCase(7, 33, ctx), run[33]);
  assert.notDeepEqual(generateCase(8, 33, ctx).pod, run[33]!.pod);
});

test('accepted specs have valid, unique names and containers; refusals cover every kind', () => {
  const names = new Set<string>();
  const mutations = new Set<string>();
  for (let i = 0; i < 3000; i++) {
    const c = generateCase(1, i, ctx);
    if (c.expect === 'refuse') {
      mutations.add(c.mutation!);
      continue;
    }
    const name = c.pod.metadata.name as string;
    assert.ok(name.length <= 253 && subdomain.test(name), `index ${i}: ${name}`);
    assert.ok(!names.has(name), `index ${i}: ${name} twice`);
    names.add(name);
    const containers = [...(c.pod.spec.initContainers ?? []), ...c.pod.spec.containers];
    assert.equal(new Set(containers.map((x: { name: string }) => x.name)).size, containers.length, `index ${i}: container names unique`);
    for (const x of containers) assert.ok(x.image, `index ${i}: ${x.name} has an image`);
    for (const m of containers.flatMap((x: { volumeMounts?: Array<{ name: string }> }) => x.volumeMounts ?? [])) {
      assert.ok((c.pod.spec.volumes ?? []).some((v: { name: string }) => v.name === m.name), `index ${i}: mount of ${m.name}`);
    }
    if (c.pod.spec.hostname) assert.ok(c.pod.spec.hostname.length <= 63 && subdomain.test(c.pod.spec.hostname));
  }
  assert.deepEqual([...mutations].sort(), [...REFUSAL_NAMES].sort());
});
