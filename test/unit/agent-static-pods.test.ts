import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { podFromManifest, staticPodUid } from '../../src/agent/sources/static-pod-files.ts';
import { staticPodSource } from '../../src/agent/sources/static-pod-source.ts';
import type { PodUpdate } from '../../src/agent/sources/pod-update.ts';

const manifest = (image: string) => `apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: app\n    image: ${image}\n`;

test('a manifest becomes a static pod the way the kubelet names it', () => {
  const pod = podFromManifest('/etc/static/web.yaml', manifest('busybox'), 'node-a');
  assert.equal(pod.metadata?.name, 'web-node-a');
  assert.equal(pod.metadata?.namespace, 'default');
  assert.equal(pod.spec?.nodeName, 'node-a');
  assert.equal(pod.metadata?.annotations?.['kubernetes.io/config.source'], 'file');
  assert.equal(pod.metadata?.annotations?.['kubernetes.io/config.hash'], pod.metadata?.uid);
  assert.match(pod.metadata!.uid!, /^[0-9a-f]{32}$/);
});

test('the uid is stable for the same content and changes with content or node', () => {
  const a = staticPodUid('/p/web.yaml', manifest('busybox'), 'node-a');
  assert.equal(staticPodUid('/p/web.yaml', manifest('busybox'), 'node-a'), a);
  assert.notEqual(staticPodUid('/p/web.yaml', manifest('busybox:2'), 'node-a'), a);
  assert.notEqual(staticPodUid('/p/web.yaml', manifest('busybox'), 'node-b'), a);
});

test('a manifest that is not a pod is refused with a reason', () => {
  assert.throws(() => podFromManifest('/p/x.yaml', 'kind: Service\nmetadata: {name: s}\n', 'n'), /kind: Pod/);
  assert.throws(() => podFromManifest('/p/x.yaml', 'kind: Pod\nmetadata: {name: s}\nspec: {containers: []}\n', 'n'), /containers/);
});

async function waitFor(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('the directory source adds, replaces on change, and deletes on removal', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'static-pods-'));
  const updates: PodUpdate[] = [];
  writeFileSync(join(dir, 'web.yaml'), manifest('busybox'));
  writeFileSync(join(dir, 'notes.txt'), 'not a manifest');
  const sub = staticPodSource(dir, 'node-a', 200, pino({ level: 'silent' })).subscribe((u) => updates.push(u));
  t.after(() => {
    sub.unsubscribe();
    rmSync(dir, { recursive: true, force: true });
  });
  assert.deepEqual(updates.map((u) => [u.op, u.pod.metadata?.name]), [['ADD', 'web-node-a']]);
  const firstUid = updates[0].pod.metadata?.uid;

  writeFileSync(join(dir, 'web.yaml'), manifest('busybox:1.36'));
  await waitFor(() => updates.length >= 3, 'the changed file to be picked up');
  assert.deepEqual(updates.slice(1).map((u) => u.op).sort(), ['ADD', 'DELETE']);
  assert.equal(updates.find((u, i) => i > 0 && u.op === 'DELETE')?.pod.metadata?.uid, firstUid);

  unlinkSync(join(dir, 'web.yaml'));
  await waitFor(() => updates.length >= 4, 'the removal to be picked up');
  assert.equal(updates[3].op, 'DELETE');
});
