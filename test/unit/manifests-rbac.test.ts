// What manifests/ grants a node in a real cluster: the Node authorizer's model, no cluster-wide
// read of Secrets or ConfigMaps.
import { test } from 'node:test';
import assert from 'node:assert/strict';

test('manifests/rbac gives nodes no cluster-wide read of Secrets or ConfigMaps (the Node authorizer grants what a node needs)', async () => {
  const { readFileSync } = await import('node:fs');
  const YAML = await import('yaml');
  const docs = YAML.parseAllDocuments(readFileSync(new URL('../../manifests/rbac/node-rbac.yaml', import.meta.url), 'utf8')).map((d) => d.toJS());
  const rules = docs.filter((d) => d?.kind === 'ClusterRole').flatMap((d) => d.rules ?? []);
  assert.ok(rules.length > 0);
  const granted = rules.filter((r: { resources?: string[] }) => (r.resources ?? []).some((x) => ['secrets', 'configmaps', '*'].includes(x)));
  assert.deepEqual(granted, []);
});
