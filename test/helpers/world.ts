// Starts a test world for one e2e test and stops it when the test ends, passed or failed
// (the world's own process 'exit' hook covers a run that dies before t.after runs).
import type { TestContext } from 'node:test';
import { startTestWorld, type TestWorld, type TestWorldOptions } from '../../src/world/test-world.ts';

export type { TestWorld } from '../../src/world/test-world.ts';

export async function startWorldFor(t: TestContext, opts: TestWorldOptions = {}): Promise<TestWorld> {
  const world = await startTestWorld(opts);
  t.after(() => world.stop());
  return world;
}
