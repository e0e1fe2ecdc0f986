// The node's own figures, from the kernel's text files: /proc/stat (CPU time, boot time) and
// /proc/meminfo (memory). Pure parsers, so their tables are unit tests; the reading is elsewhere.
//
// CPU: the kubelet's node figure is the root cgroup's usage, all the time the CPUs spent not idle.
// /proc/stat's first line gives it in USER_HZ ticks (100 per second on Linux, whatever CONFIG_HZ
// is): user + nice + system + irq + softirq + steal. idle and iowait are not use; guest and
// guest_nice are already counted inside user and nice.
//
// Memory: workingSet = MemTotal − MemAvailable (what cannot be reclaimed without swapping, the
// figure `kubectl top node` shows), usage = MemTotal − MemFree (page cache included),
// available = MemAvailable, rss = AnonPages.

/** Kernel ticks per second in /proc/stat (USER_HZ; fixed at 100 for user space on Linux). */
export const USER_HZ = 100;
const NS_PER_TICK = 1e9 / USER_HZ;

export interface ProcStat {
  /** Non-idle CPU time over all cores since boot, in nanoseconds. */
  usageCoreNanoSeconds: number;
  /** Boot time, ms since the epoch (btime), when the file gives it. */
  bootTimeMs?: number;
  /** Number of cpuN lines: the CPUs online. */
  cpus: number;
}

/** Parses /proc/stat; undefined when it has no aggregate `cpu` line. */
export function parseProcStat(text: string): ProcStat | undefined {
  let usage: number | undefined;
  let bootTimeMs: number | undefined;
  let cpus = 0;
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    const key = fields[0];
    if (key === 'cpu') {
      const n = fields.slice(1).map(Number);
      if (n.length < 4 || n.some((v) => !Number.isFinite(v) || v < 0)) return undefined;
      const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = n;
      usage = (user + nice + system + irq + softirq + steal) * NS_PER_TICK;
    } else if (key && /^cpu\d+$/.test(key)) {
      cpus++;
    } else if (key === 'btime') {
      const s = Number(fields[1]);
      if (Number.isFinite(s) && s > 0) bootTimeMs = s * 1000;
    }
  }
  if (usage === undefined) return undefined;
  return { usageCoreNanoSeconds: usage, cpus, ...(bootTimeMs !== undefined ? { bootTimeMs } : {}) };
}

export interface MemInfo {
  totalBytes: number;
  freeBytes: number;
  availableBytes: number;
  workingSetBytes: number;
  usageBytes: number;
  rssBytes?: number;
}

/** Parses /proc/meminfo ("MemTotal:   16318412 kB"); undefined without MemTotal and MemFree.
 * A kernel older than 3.14 has no MemAvailable: then free + buffers + cached stands in. */
export function parseMeminfo(text: string): MemInfo | undefined {
  const kb = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z0-9_()]+):\s+(\d+)(?:\s+kB)?\s*$/.exec(line.trim());
    if (m) kb.set(m[1]!, Number(m[2]) * (line.includes('kB') ? 1024 : 1));
  }
  const total = kb.get('MemTotal');
  const free = kb.get('MemFree');
  if (total === undefined || free === undefined) return undefined;
  const available = Math.min(total, kb.get('MemAvailable') ?? free + (kb.get('Buffers') ?? 0) + (kb.get('Cached') ?? 0));
  const anon = kb.get('AnonPages');
  return {
    totalBytes: total,
    freeBytes: free,
    availableBytes: available,
    workingSetBytes: total - available,
    usageBytes: total - free,
    ...(anon !== undefined ? { rssBytes: anon } : {}),
  };
}
