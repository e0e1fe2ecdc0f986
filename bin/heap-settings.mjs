// V8 heap settings for the agent, before the bundle loads (loading it already grows the heap).
// V8 sizes its heap for throughput: the young generation grows with the bytes that survive
// scavenges, in a long-running process up to its maximum (2 x 16 MB), and the old generation
// may grow to 2-4x its live size before a full GC. At 110 pods that was 32 MB and ~15 MB of the
// agent's ~135 MB RSS, for a live heap of ~26 MB. Kept small, the agent measured ~98 MB there,
// at a few percent more CPU (more, each cheap, scavenges and full GCs).
// The sizes themselves are fixed once V8 runs; these two flags are read at each resize:
//   --semi-space-growth-factor=1: the young generation keeps its starting size (2 x 1 MB);
//   --heap-growing-percent=20: the old generation may outgrow its live size by 20% before a full GC.
// Only the agent (no subcommand). A node flag naming either setting (NODE_OPTIONS too) wins,
// and MINI_KUBELET_V8_HEAP=default leaves V8's own choices.
import { setFlagsFromString } from 'node:v8';

const isAgent = process.argv[2] === undefined || process.argv[2].startsWith('-');
const given = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].join(' ');

if (isAgent && process.env.MINI_KUBELET_V8_HEAP !== 'default') {
  if (!/semi[-_]space/.test(given)) setFlagsFromString('--semi-space-growth-factor=1');
  if (!/heap[-_]growing/.test(given)) setFlagsFromString('--heap-growing-percent=20');
}
