// Preloaded into the agent by bench-startup (node --import): on SIGUSR2 writes the process's
// memory figures as JSON to $MINI_KUBELET_MEMORY_PROBE_OUT, and with
// MINI_KUBELET_MEMORY_PROBE_SNAPSHOT=1 a heap snapshot beside it, for finding what holds memory.
import { readFileSync, writeFileSync } from 'node:fs';
import { getHeapSpaceStatistics, getHeapStatistics, writeHeapSnapshot } from 'node:v8';

const out = process.env.MINI_KUBELET_MEMORY_PROBE_OUT;
if (out) {
  process.on('SIGUSR2', () => {
    const m = process.memoryUsage();
    const h = getHeapStatistics();
    const snapshot = process.env.MINI_KUBELET_MEMORY_PROBE_SNAPSHOT === '1' ? writeHeapSnapshot(`${out}.heapsnapshot`) : undefined;
    const spaces = Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, { size: s.space_size, used: s.space_used_size }]));
    // Resident memory by mapping kind (the binary, malloc's heap and arenas, V8's pages), largest first.
    const byMapping = {};
    let current = '';
    for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
      const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
      if (head) current = head[1] || '[anon]';
      const rss = /^Rss:\s+(\d+) kB/.exec(line);
      if (rss) byMapping[current] = (byMapping[current] ?? 0) + Number(rss[1]);
    }
    const mappingsKb = Object.fromEntries(Object.entries(byMapping).sort((a, b) => b[1] - a[1]).slice(0, 8));
    writeFileSync(out, JSON.stringify({ ...m, mappingsKb, externalMemory: h.external_memory, mallocedMemory: h.malloced_memory, peakMallocedMemory: h.peak_malloced_memory, spaces, snapshot }));
  });
}
