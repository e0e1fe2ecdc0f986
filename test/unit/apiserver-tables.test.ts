// The cells `kubectl get` shows, computed server-side as kube-apiserver's printers do.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resourceTypes } from '../../src/apiserver/registry.ts';
import { humanDuration, podStatusReason, toTable } from '../../src/apiserver/tables.ts';

test('ages read like kubectl prints them', () => {
  const cases: Array<[number, string]> = [[0, '0s'], [59, '59s'], [119, '119s'], [150, '2m30s'], [600, '10m'], [3 * 3600 + 120, '3h2m'],
    [10 * 3600, '10h'], [50 * 3600, '2d2h'], [9 * 86400, '9d'], [800 * 86400, '2y70d'], [-5, '<invalid>']];
  for (const [seconds, text] of cases) assert.equal(humanDuration(seconds), text, String(seconds));
});

const pod = (status: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  metadata: { name: 'p', ...extra }, spec: { initContainers: [{ name: 'init' }], containers: [{ name: 'a' }, { name: 'b' }] }, status,
});

test('pod STATUS follows the container states', () => {
  assert.equal(podStatusReason(pod({ phase: 'Pending' })), 'Pending');
  assert.equal(podStatusReason(pod({ phase: 'Pending', initContainerStatuses: [{ name: 'init', state: { running: {} } }] })), 'Init:0/1');
  assert.equal(podStatusReason(pod({ phase: 'Pending', initContainerStatuses: [{ name: 'init', state: { terminated: { exitCode: 3 } } }] })), 'Init:ExitCode:3');
  const running = { initContainerStatuses: [{ name: 'init', state: { terminated: { exitCode: 0, reason: 'Completed' } } }] };
  assert.equal(podStatusReason(pod({ phase: 'Running', ...running, containerStatuses: [
    { name: 'a', ready: true, state: { running: {} } }, { name: 'b', state: { waiting: { reason: 'CrashLoopBackOff' } } }] })), 'CrashLoopBackOff');
  assert.equal(podStatusReason(pod({ phase: 'Running', ...running, containerStatuses: [
    { name: 'a', ready: true, state: { running: {} } }, { name: 'b', state: { terminated: { exitCode: 0, reason: 'Completed' } } }],
  conditions: [{ type: 'Ready', status: 'False' }] })), 'NotReady');
  assert.equal(podStatusReason(pod({ phase: 'Running' }, { deletionTimestamp: '2026-01-01T00:00:00Z' })), 'Terminating');
});

test('a pod table row has the default and wide columns', () => {
  const podType = resourceTypes.find((t) => t.plural === 'pods' && !t.group)!;
  const now = new Date('2026-01-01T00:05:00Z');
  const p = {
    metadata: { name: 'web', creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: { nodeName: 'n1', containers: [{ name: 'a' }] },
    status: { phase: 'Running', podIP: '10.0.0.9', containerStatuses: [{ name: 'a', ready: true, restartCount: 2, state: { running: {} } }] },
  };
  const table = toTable(podType, [p], { resourceVersion: '5' }, { includeObject: 'Metadata', noHeaders: false }, now);
  assert.deepEqual(table.columnDefinitions.map((c) => `${c.name}:${c.priority}`),
    ['Name:0', 'Ready:0', 'Status:0', 'Restarts:0', 'Age:0', 'IP:1', 'Node:1', 'Nominated Node:1', 'Readiness Gates:1']);
  assert.deepEqual(table.rows[0].cells, ['web', '1/1', 'Running', '2', '5m', '10.0.0.9', 'n1', '<none>', '<none>']);
  assert.deepEqual(table.rows[0].object, { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: p.metadata });
});
