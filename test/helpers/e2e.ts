// Gate for e2e tests: they need root for containerd, mounts and network namespaces.
// Outside CI a non-root run skips them (and says why); in CI a skip is a failure.
import type { TestContext } from 'node:test';

export const canRunE2e = process.getuid?.() === 0;

/** Call first in every e2e test (or suite). Returns false when the test was skipped. */
export function requireE2e(t: TestContext): boolean {
  if (canRunE2e) return true;
  if (process.env.CI === 'true') throw new Error('e2e test needs root, and CI=true forbids skipping it');
  t.skip('needs root for containerd, mounts and network namespaces');
  return false;
}
