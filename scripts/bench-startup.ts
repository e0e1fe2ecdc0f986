// `npm run bench:startup -- --n 110 [--parallelism 8]`: pod start-up on real containerd.
// Prints one JSON line. This half measures the raw CRI floor (the calls a kubelet makes, no
// agent) against a fresh test world; the agent half, measured in the same run against the
// same world, is to be added beside it and reported as a ratio to floor_s.
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { CriClient } from '../src/cri/client.ts';
import { measureCriFloor } from '../src/world/bench-floor.ts';
import { startTestWorld } from '../src/world/test-world.ts';

const { values } = parseArgs({
  options: { n: { type: 'string', default: '110' }, parallelism: { type: 'string', default: '8' } },
});
const n = Number(values.n);
const parallelism = Number(values.parallelism);
if (!Number.isInteger(n) || n < 1 || !Number.isInteger(parallelism) || parallelism < 1) {
  console.error('usage: bench-startup --n N [--parallelism P]  (positive integers)');
  process.exit(2);
}
if (process.getuid?.() !== 0) {
  console.error('bench-startup needs root: it runs a real containerd (the test world)');
  process.exit(1);
}

const logger = pino({ level: process.env.MINI_KUBELET_WORLD_LOG ?? 'warn' }, pino.destination(2));
const world = await startTestWorld({ logger });
try {
  const cri = CriClient.connect(world.containerdEndpoint);
  const pullStarted = performance.now();
  await cri.pullImage({ image: { image: world.images.busybox } });
  const pullMs = Math.round(performance.now() - pullStarted);
  cri.close();
  const floor = await measureCriFloor({ endpoint: world.containerdEndpoint, image: world.images.busybox, n, parallelism, podLogDir: world.podLogDir, logger });
  console.log(JSON.stringify({ ...floor, pull_ms: pullMs, runtime: 'containerd' }));
} finally {
  await world.stop();
}
