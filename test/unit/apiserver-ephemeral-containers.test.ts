// pods/ephemeralcontainers validation: only additions, each with a unique name and an image, a target
// that exists, and none of what an ephemeral container never gets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ephemeralContainersUpdateErrors } from '../../src/apiserver/ephemeral-containers.ts';

const spec = {
  containers: [{ name: 'app', image: 'busybox' }],
  initContainers: [{ name: 'init', image: 'busybox' }],
  ephemeralContainers: [{ name: 'dbg-1', image: 'busybox' }],
};
const fields = (incoming: unknown) => ephemeralContainersUpdateErrors(spec, incoming).map((e) => `${e.field} ${e.type}${e.detail ? `: ${e.detail}` : ''}`);

const rows: Array<{ name: string; incoming: unknown; want: string[] }> = [
  { name: 'adding one with a target', incoming: [spec.ephemeralContainers[0], { name: 'dbg-2', image: 'busybox', targetContainerName: 'app' }], want: [] },
  { name: 'empty resources and ports ask for nothing (kubectl sends them)', incoming: [spec.ephemeralContainers[0], { name: 'dbg-2', image: 'b', resources: {}, ports: [] }], want: [] },
  { name: 'the same list again', incoming: spec.ephemeralContainers, want: [] },
  { name: 'removing one', incoming: [], want: ['spec.ephemeralContainers Forbidden: existing ephemeral containers "dbg-1" may not be changed'] },
  { name: 'changing one', incoming: [{ name: 'dbg-1', image: 'other' }], want: ['spec.ephemeralContainers Forbidden: existing ephemeral containers "dbg-1" may not be changed'] },
  { name: 'a name taken by an app container', incoming: [spec.ephemeralContainers[0], { name: 'app', image: 'busybox' }], want: ['spec.ephemeralContainers[1].name Duplicate'] },
  { name: 'no image', incoming: [spec.ephemeralContainers[0], { name: 'dbg-2' }], want: ['spec.ephemeralContainers[1].image Required'] },
  { name: 'an unknown target', incoming: [spec.ephemeralContainers[0], { name: 'dbg-2', image: 'b', targetContainerName: 'nope' }], want: ['spec.ephemeralContainers[1].targetContainerName Invalid: must refer to a container in the pod'] },
  { name: 'ports and a probe', incoming: [spec.ephemeralContainers[0], { name: 'dbg-2', image: 'b', ports: [{ containerPort: 80 }], readinessProbe: { exec: { command: ['true'] } } }],
    want: ['spec.ephemeralContainers[1].ports Forbidden: cannot be set for an Ephemeral Container', 'spec.ephemeralContainers[1].readinessProbe Forbidden: cannot be set for an Ephemeral Container'] },
  { name: 'not a list', incoming: { name: 'x' }, want: ['spec.ephemeralContainers Invalid: must be a list'] },
];
for (const row of rows) test(`ephemeral containers: ${row.name}`, () => assert.deepEqual(fields(row.incoming), row.want));
